#include "cli/import/apache_parser.h"

#include <glob.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "cli/import/apache_lexer.h"

namespace rwproxy::cli::apache {
namespace {

namespace fs = std::filesystem;

absl::Status At(const std::string& file, int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", message));
}

// Bounds that keep a hostile or broken config from exhausting the stack or memory.
constexpr size_t kMaxSectionDepth = 64;          // nested <Section>s (the tree is walked recursively)
constexpr size_t kMaxExpandedBytes = 64 * 1024;  // one directive's arguments after ${NAME}
constexpr uintmax_t kMaxFileBytes = 16 * 1024 * 1024;

// Builds the section tree of one file (no includes or conditions decided yet).
absl::StatusOr<std::vector<Node>> BuildTree(absl::string_view text, const std::string& file) {
  auto lines = SplitLogicalLines(text);
  if (!lines.ok())
    return absl::InvalidArgumentError(absl::StrCat(file, ":", lines.status().message()));
  std::vector<Node> top;
  std::vector<Node*> open;  // the sections being filled, innermost last
  auto current = [&]() -> std::vector<Node>& { return open.empty() ? top : open.back()->children; };
  for (const LogicalLine& line : *lines) {
    Node node;
    node.file = file;
    node.line = line.line;
    if (line.text[0] != '<') {
      SplitDirective(line.text, &node.name, &node.args);
      current().push_back(std::move(node));
      continue;
    }
    auto tag = ParseSectionTag(line.text);
    if (!tag.ok()) return At(file, line.line, tag.status().message());
    if (tag->closing) {
      if (open.empty())
        return At(file, line.line, absl::StrCat("</", tag->name, "> without <", tag->name, ">"));
      if (!absl::EqualsIgnoreCase(open.back()->name, tag->name)) {
        return At(file, line.line,
                  absl::StrCat("</", tag->name, "> closes <", open.back()->name,
                               "> (opened at line ", open.back()->line, ")"));
      }
      open.pop_back();
      continue;
    }
    if (open.size() == kMaxSectionDepth) {
      return At(file, line.line, absl::StrCat("sections nested deeper than ", kMaxSectionDepth));
    }
    node.name = tag->name;
    node.args = tag->args;
    node.section = true;
    current().push_back(std::move(node));
    open.push_back(&current().back());
  }
  if (!open.empty()) {
    return At(file, open.back()->line, absl::StrCat("<", open.back()->name, "> is not closed"));
  }
  return top;
}

// <IfVersion [op] 2.4>: decided for Apache httpd 2.4 (major and minor only).
bool VersionHolds(absl::string_view args) {
  std::vector<std::string> words = absl::StrSplit(args, ' ', absl::SkipWhitespace());
  if (words.empty()) return true;
  std::string op = words.size() > 1 ? words[0] : "=";
  const std::string& version = words.back();
  if (op == "~" || version.front() == '/') return true;  // a regex: assume it holds
  std::vector<std::string> parts = absl::StrSplit(version, '.');
  int major = 0, minor = 0;
  if (!absl::SimpleAtoi(parts[0], &major)) return true;
  if (parts.size() > 1 && !absl::SimpleAtoi(parts[1], &minor)) return true;
  const int have = 2 * 100 + 4;
  const int want = major * 100 + minor;
  if (op == "=" || op == "==") return have == want;
  if (op == "!=") return have != want;
  if (op == ">") return have > want;
  if (op == ">=") return have >= want;
  if (op == "<") return have < want;
  if (op == "<=") return have <= want;
  return true;
}

class Resolver {
 public:
  Resolver(const ParseOptions& options, std::string top_dir)
      : options_(options), top_dir_(std::move(top_dir)) {}

  absl::Status ResolveText(absl::string_view text, const std::string& shown, int depth,
                           std::vector<Node>* out) {
    auto tree = BuildTree(text, shown);
    if (!tree.ok()) return tree.status();
    *out = std::move(*tree);
    return Resolve(out, depth);
  }

  absl::Status ResolveFile(const std::string& path, int depth, std::vector<Node>* out) {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(path, ec);
    const std::string key = ec ? path : canonical.string();
    if (std::find(stack_.begin(), stack_.end(), key) != stack_.end()) {
      std::vector<std::string> chain(stack_.begin(), stack_.end());
      chain.push_back(key);
      return absl::InvalidArgumentError(
          absl::StrCat("Include cycle: ", absl::StrJoin(chain, " -> ")));
    }
    if (++files_ > options_.max_files) {
      return absl::InvalidArgumentError(
          absl::StrCat("more than ", options_.max_files, " files included"));
    }
    // Only regular files: a FIFO or /dev/zero would never end.
    if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {
      return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
    }
    if (const uintmax_t size = fs::file_size(path, ec); !ec && size > kMaxFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than ", kMaxFileBytes / (1024 * 1024), " MiB"));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
    std::stringstream text;
    text << in.rdbuf();
    stack_.push_back(key);
    absl::Status status = ResolveText(text.str(), path, depth, out);
    stack_.pop_back();
    return status;
  }

 private:
  absl::Status Resolve(std::vector<Node>* nodes, int depth) {
    for (Node& node : *nodes) {
      node.args = Expand(node.args);
      if (node.args.size() > kMaxExpandedBytes) {
        return At(node.file, node.line,
                  absl::StrCat("arguments longer than ", kMaxExpandedBytes,
                               " bytes after ${NAME} expansion"));
      }
      const std::string key = node.Key();
      if (node.section) {
        Decide(&node);
        if (node.skipped) {
          node.children.clear();
          continue;
        }
        absl::Status status = Resolve(&node.children, depth);
        if (!status.ok()) return status;
      } else if ((key == "include" || key == "includeoptional") && options_.read_includes) {
        absl::Status status = Include(&node, key == "includeoptional", depth);
        if (!status.ok()) return status;
      } else if (key == "define" || key == "undefine") {
        auto words = SplitArgs(node.args);
        if (!words.ok() || words->empty()) continue;
        if (key == "undefine") {
          defines_.erase((*words)[0]);
        } else {
          defines_[(*words)[0]] = words->size() > 1 ? (*words)[1] : "";
        }
      } else if (key == "serverroot") {
        auto args = SplitArgs(node.args);
        if (args.ok() && args->size() == 1) server_root_ = (*args)[0];
      }
    }
    return absl::OkStatus();
  }

  void Decide(Node* node) {
    const std::string key = node->Key();
    std::string args = std::string(absl::StripAsciiWhitespace(node->args));
    if (args.size() >= 2 && (args[0] == '"' || args[0] == '\'') && args.back() == args[0]) {
      args = args.substr(1, args.size() - 2);
    }
    const bool negated = !args.empty() && args[0] == '!';
    const std::string name = negated ? args.substr(1) : args;
    if (key == "ifdefine") {
      const bool holds = defines_.contains(name) != negated;
      node->skipped = !holds;
      node->skip_reason = absl::StrCat(name, negated ? " is defined" : " is not defined");
    } else if (key == "ifmodule" || key == "iffile" || key == "ifdirective" || key == "ifsection") {
      node->skipped = negated;
      node->skip_reason = "the module (or what it tests) is taken as present";
    } else if (key == "ifversion") {
      node->skipped = !VersionHolds(args);
      node->skip_reason = "decided for Apache httpd 2.4";
    }
  }

  // ${NAME} from Define, else the environment; unknown names stay as written (as in httpd).
  std::string Expand(const std::string& text) const {
    if (text.find("${") == std::string::npos) return text;
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      size_t open = text.find("${", i);
      size_t close = open == std::string::npos ? open : text.find('}', open);
      if (close == std::string::npos) break;
      out.append(text, i, open - i);
      const std::string name = text.substr(open + 2, close - open - 2);
      auto it = defines_.find(name);
      const char* env = it == defines_.end() ? std::getenv(name.c_str()) : nullptr;
      if (it != defines_.end()) {
        out += it->second;
      } else if (env != nullptr) {
        out += env;
      } else {
        out.append(text, open, close - open + 1);
      }
      i = close + 1;
      if (out.size() > kMaxExpandedBytes) return out;  // the caller reports it
    }
    out.append(text, std::min(i, text.size()), std::string::npos);
    return out;
  }

  absl::Status Include(Node* node, bool optional, int depth) {
    auto args = SplitArgs(node->args);
    if (!args.ok() || args->size() != 1) {
      return At(node->file, node->line, absl::StrCat(node->name, " takes one path"));
    }
    if (depth + 1 > options_.max_include_depth) {
      return At(node->file, node->line,
                absl::StrCat("Include nested deeper than ", options_.max_include_depth));
    }
    fs::path pattern((*args)[0]);
    if (pattern.is_relative()) {
      const std::string& base = !options_.server_root.empty() ? options_.server_root
                                : !server_root_.empty()       ? server_root_
                                                              : top_dir_;
      pattern = (fs::path(base) / pattern).lexically_normal();
    }
    std::vector<std::string> files;
    Expand(pattern.string(), &files);
    if (files.empty() && !optional) {
      return At(node->file, node->line,
                absl::StrCat("Include ", pattern.string(),
                             ": no such file (relative paths start at --server-root, else "
                             "ServerRoot, else the main file's directory)"));
    }
    for (const std::string& file : files) {
      std::vector<Node> nodes;
      absl::Status status = ResolveFile(file, depth + 1, &nodes);
      if (!status.ok()) {
        return absl::Status(status.code(), absl::StrCat(node->Where(), ": ", status.message()));
      }
      node->included.push_back(file);
      for (Node& n : nodes) node->children.push_back(std::move(n));
    }
    return absl::OkStatus();
  }

  // The files a path or glob names: files as they are, directories recursively (sorted).
  void Expand(const std::string& pattern, std::vector<std::string>* files) const {
    std::vector<std::string> matches;
    if (pattern.find_first_of("*?[") == std::string::npos) {
      std::error_code ec;
      if (fs::exists(pattern, ec)) matches.push_back(pattern);
    } else {
      glob_t g{};
      if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) matches.emplace_back(g.gl_pathv[i]);
      }
      globfree(&g);
    }
    for (const std::string& match : matches) {
      std::error_code ec;
      if (!fs::is_directory(match, ec)) {
        files->push_back(match);
        continue;
      }
      std::vector<std::string> inside;
      for (auto it = fs::recursive_directory_iterator(match, ec);
           !ec && it != fs::recursive_directory_iterator() && inside.size() <= 10000;
           it.increment(ec)) {
        if (it->is_regular_file(ec)) inside.push_back(it->path().string());
      }
      std::sort(inside.begin(), inside.end());
      files->insert(files->end(), inside.begin(), inside.end());
    }
  }

  const ParseOptions& options_;
  std::string top_dir_;
  std::string server_root_;  // the last ServerRoot read
  absl::flat_hash_map<std::string, std::string> defines_;
  std::vector<std::string> stack_;  // canonical paths of the files being read
  int files_ = 0;
};

std::string DirOf(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

}  // namespace

std::string Node::Text() const {
  if (section) return absl::StrCat("<", name, args.empty() ? "" : " ", args, ">");
  return args.empty() ? name : absl::StrCat(name, " ", args);
}

std::string Node::Where() const { return absl::StrCat(file, ":", line); }

std::string Node::Key() const { return absl::AsciiStrToLower(name); }

absl::StatusOr<std::vector<Node>> ParseApacheConfig(const std::string& path,
                                                    const ParseOptions& options) {
  Resolver resolver(options, DirOf(path));
  std::vector<Node> nodes;
  absl::Status status = resolver.ResolveFile(path, 0, &nodes);
  if (!status.ok()) return status;
  return nodes;
}

absl::StatusOr<std::vector<Node>> ParseApacheText(absl::string_view text, const std::string& name,
                                                  const ParseOptions& options) {
  Resolver resolver(options, DirOf(name));
  std::vector<Node> nodes;
  absl::Status status = resolver.ResolveText(text, name, 0, &nodes);
  if (!status.ok()) return status;
  return nodes;
}

}  // namespace rwproxy::cli::apache
