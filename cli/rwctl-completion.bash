# bash completion for rwctl (installed as share/bash-completion/completions/rwctl).
# Completes subcommands, their flags, -o/--output values and file arguments. Keep in step with
# the subcommands registered in cli/commands_*.cc (tests/cli/rwctl_fake_server_test.cc checks it).

_rwctl() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null 2>&1; then
    _init_completion -n = || return
  else
    COMPREPLY=()
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi

  local global_flags="--server --servers-file --token-file --timeout --help --version"
  local commands="apply rollback validate get diff history watch explain stats version import"

  # The subcommand (and get's own), and how many positional arguments follow it; flags that take
  # a value skip it.
  local cmd="" sub="" args=0 i word
  for ((i = 1; i < cword; i++)); do
    word="${words[i]}"
    case "$word" in
      --server | --servers-file | --token-file | --timeout | -f | --filename | \
        --expect-version | -m | --message | -o | --output | --limit | --until-version | \
        -H | --header | --filter | --watch | --count | --guard | --max-error-ratio | \
        --min-requests | --waves | --max-unavailable | --report | --server-root | --port) ((i++)) ;;
      -*) ;;
      *)
        if [[ -z "$cmd" ]]; then
          cmd="$word"
        elif [[ "$cmd" == get && -z "$sub" && ( "$word" == routes || "$word" == clusters ) ]] ||
          [[ "$cmd" == import && -z "$sub" && "$word" == apache ]]; then
          sub="$word"
        else
          ((args++))
        fi
        ;;
    esac
  done

  # Values of flags.
  case "$prev" in
    --servers-file | --token-file | -f | --filename | --report | --server-root)
      COMPREPLY=($(compgen -f -- "$cur"))
      return
      ;;
    --server | --timeout | --expect-version | -m | --message | --limit | --until-version | \
      -H | --header | --filter | --watch | --count | --guard | --max-error-ratio | \
      --min-requests | --waves | --max-unavailable | --port)
      return
      ;;
    -o | --output)
      local formats="text json"
      case "$cmd $sub" in
        "get ") formats="yaml json" ;;
        "get routes" | "get clusters") formats="text json yaml" ;;
        "import apache") formats="yaml json" ;;
      esac
      COMPREPLY=($(compgen -W "$formats" -- "$cur"))
      return
      ;;
  esac

  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "$commands $global_flags" -- "$cur"))
    return
  fi

  local flags=""
  case "$cmd" in
    apply)
      flags="-f --filename --dry-run --expect-version -m --message -o --output --guard"
      flags+=" --max-error-ratio --min-requests --no-wait --waves --max-unavailable --no-rollback"
      ;;
    rollback) flags="--expect-version -m --message -o --output" ;;
    validate) flags="--offline" ;;
    get) flags="-o --output" ;;
    diff) flags="" ;;
    history) flags="--limit -o --output" ;;
    watch) flags="--until-version -o --output" ;;
    explain) flags="-H --header -o --output" ;;
    stats) flags="--filter --watch --count -o --output" ;;
    version) flags="-o --output" ;;
    import) flags="-o --output --strict --report --server-root --port" ;;
  esac

  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags $global_flags" -- "$cur"))
    return
  fi
  case "$cmd" in
    apply | validate | diff) ((args == 0)) && COMPREPLY=($(compgen -f -- "$cur")) ;;
    import)
      if [[ -z "$sub" ]]; then
        COMPREPLY=($(compgen -W "apache" -- "$cur"))
      elif ((args == 0)); then
        COMPREPLY=($(compgen -f -- "$cur"))
      fi
      ;;
    get) [[ -z "$sub" ]] && COMPREPLY=($(compgen -W "routes clusters" -- "$cur")) ;;
    explain)
      ((args == 0)) && COMPREPLY=($(compgen -W "GET HEAD POST PUT PATCH DELETE OPTIONS" -- "$cur"))
      ;;
  esac
  return 0
}

complete -o filenames -F _rwctl rwctl
