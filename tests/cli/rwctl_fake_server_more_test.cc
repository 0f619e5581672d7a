// rwctl against the fake ControlPlane, continued: get routes (table, JSON, YAML), stats
// (--filter, --watch), apply/rollback -o json, history source and peer, version, the exit codes of
// diff and explain, and the bash completion script.
#include "tests/cli/rwctl_fake_server_fixture.h"

namespace rwtest {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kManyRoutes[] = R"(clusters:
  - {name: app, endpoints: ["127.0.0.1:8081"]}
  - {name: canary, endpoints: ["127.0.0.1:8082"]}
routes:
  - name: docs
    match: {path_prefix: /docs/}
    redirect: {location: "https://docs.example.com$0", status: 301}
  - name: split
    match: {path_prefix: /split/, methods: [GET, POST], headers: {x-canary: "1"}}
    rewrite: {prefix: /}
    backends: [{cluster: app, weight: 90}, {cluster: canary, weight: 10}]
    timeout: 2s
    retry: {on: [5xx, reset], max: 2, per_try_timeout: 500ms}
  - name: api
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/v2/$1", host: internal}
    cluster: app
  - name: deny
    match: {path_exact: /admin}
    respond: {status: 403}
)";

// The cells of a table line: columns are separated by at least two spaces.
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  for (absl::string_view piece : absl::StrSplit(line, "  ", absl::SkipWhitespace())) {
    cells.emplace_back(absl::StripAsciiWhitespace(piece));
  }
  return cells;
}

bool ParsesAsJson(const std::string& text) {
  google::protobuf::Struct parsed;
  return google::protobuf::util::JsonStringToMessage(text, &parsed).ok();
}

TEST_F(RwctlFakeServerTest, GetRoutesPrintsTableJsonAndYaml) {
  std::string file = runner_.WriteFile("many.yaml", kManyRoutes);
  ASSERT_EQ(Ctl({"apply", file}).exit_code, 0);

  RwctlResult r = Ctl({"get", "routes"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << r.out;
  using ::testing::ElementsAre;
  EXPECT_THAT(Cells(lines[0]), ElementsAre("NAME", "MATCH", "METHODS/HEADERS", "REWRITE", "ACTION",
                                           "TIMEOUT", "RETRY"));
  EXPECT_THAT(Cells(lines[1]), ElementsAre("docs", "prefix /docs/", "-", "-",
                                           "redirect 301 https://docs.example.com$0", "-", "-"));
  EXPECT_THAT(Cells(lines[2]),
              ElementsAre("split", "prefix /split/", "GET,POST x-canary=1", "prefix=/",
                          "split app 90%, canary 10%", "2s", "on=5xx,reset max=2 per_try=500ms"));
  EXPECT_THAT(Cells(lines[3]), ElementsAre("api", "regex ^/api/(.*)$", "-",
                                           "path=/v2/$1 host=internal", "cluster app", "15s", "-"));
  EXPECT_THAT(Cells(lines[4]),
              ElementsAre("deny", "exact /admin", "-", "-", "respond 403", "-", "-"));
  // Columns line up: every ACTION cell starts where the header's does.
  const size_t action = lines[0].find("ACTION");
  EXPECT_EQ(lines[2].find("split app"), action) << r.out;
  EXPECT_EQ(lines[4].find("respond 403"), action) << r.out;

  r = Ctl({"get", "routes", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &json).ok()) << r.out;
  EXPECT_EQ(json.fields().at("version").number_value(), 2);
  EXPECT_EQ(json.fields().at("content_hash").string_value(), FakeControlPlane::HashOf(2));
  const auto& routes = json.fields().at("routes").list_value();
  ASSERT_EQ(routes.values_size(), 4) << r.out;
  EXPECT_EQ(routes.values(1).struct_value().fields().at("name").string_value(), "split");
  EXPECT_EQ(json.fields().count("clusters"), 0u);

  r = Ctl({"get", "routes", "-o", "yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, ::testing::StartsWith("# routes of rwproxy config version 2 (content_hash " +
                                           FakeControlPlane::HashOf(2) + ")\nroutes:\n"));
  rwproxy::config::v1::Config parsed, applied;
  std::vector<rwproxy::yaml::YamlError> errors;
  ASSERT_TRUE(rwproxy::yaml::ParseConfig(r.out, &parsed, nullptr, &errors)) << r.out;
  ASSERT_TRUE(rwproxy::yaml::ParseConfig(kManyRoutes, &applied, nullptr, &errors));
  EXPECT_EQ(parsed.clusters_size(), 0);
  applied.clear_clusters();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, applied)) << r.out;

  fake_.set_token("s3cret");
  EXPECT_EQ(Ctl({"get", "routes"}).exit_code, 3);
}

rwproxy::control::v1::GetStatsResponse SomeStats() {
  rwproxy::control::v1::GetStatsResponse stats;
  auto* app = stats.add_clusters();
  app->set_name("app");
  (*app->mutable_counters())["rq_total"] = 10;
  (*app->mutable_counters())["rq_5xx"] = 1;
  auto* other = stats.add_clusters();
  other->set_name("other");
  (*other->mutable_counters())["rq_total"] = 5;
  (*stats.mutable_server())["no_route"] = 2;
  return stats;
}

TEST_F(RwctlFakeServerTest, StatsFilterKeepsMatchingDottedNames) {
  fake_.set_stats(SomeStats(), 0);
  RwctlResult r = Ctl({"stats"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out,
            "config version 1\ncluster.app.rq_5xx: 1\ncluster.app.rq_total: 10\n"
            "cluster.other.rq_total: 5\nserver.no_route: 2\n");
  r = Ctl({"stats", "--filter", "^cluster\\.app\\."});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "config version 1\ncluster.app.rq_5xx: 1\ncluster.app.rq_total: 10\n");

  r = Ctl({"stats", "--filter", "rq_total$", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  rwproxy::control::v1::GetStatsResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &parsed).ok()) << r.out;
  ASSERT_EQ(parsed.clusters_size(), 2);
  EXPECT_EQ(parsed.clusters(0).counters().size(), 1u);
  EXPECT_EQ(parsed.clusters(0).counters().at("rq_total"), 10u);
  EXPECT_TRUE(parsed.server().empty());

  r = Ctl({"stats", "--filter", "nothing-like-this"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "config version 1\n");
  EXPECT_THAT(r.err, HasSubstr("no counter name matches --filter 'nothing-like-this'"));
}

TEST_F(RwctlFakeServerTest, StatsWatchPrintsCountSamplesWithRates) {
  fake_.set_stats(SomeStats(), 3);  // every counter of every cluster grows by 3 per call
  RwctlResult r = Ctl({"stats", "--watch", "100ms", "--count", "2", "--filter", "app\\.rq_total"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(fake_.stats_calls(), 2);
  const std::string ts = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z";
  EXPECT_THAT(r.out, MatchesRegex("config version 1 at " + ts +
                                  "\ncluster\\.app\\.rq_total: 10\n\n"
                                  "config version 1 at " +
                                  ts +
                                  ", rates over [0-9]+\\.[0-9]{3}s\n"
                                  "cluster\\.app\\.rq_total: 13 \\([0-9]+\\.[0-9]/s\\)\n"))
      << r.out;
  // 3 more over the measured interval (about 100ms: the second sample is due 100ms after the
  // first began).
  double interval = 0, rate = 0;
  ASSERT_EQ(sscanf(r.out.c_str() + r.out.find("rates over ") + 11, "%lfs", &interval), 1);
  ASSERT_EQ(sscanf(r.out.c_str() + r.out.find("13 (") + 4, "%lf", &rate), 1);
  ASSERT_GT(interval, 0);
  EXPECT_NEAR(rate, 3 / interval, 0.1 + 0.02 * (3 / interval)) << r.out;

  r = Ctl({"stats", "--watch", "50ms", "--count", "3", "-o", "json", "--filter", "other"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    google::protobuf::Struct sample;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &sample).ok()) << lines[i];
    EXPECT_EQ(sample.fields().at("sample").number_value(), static_cast<double>(i + 1));
    const auto& counters = sample.fields().at("counters").struct_value().fields();
    ASSERT_EQ(counters.size(), 1u) << lines[i];
    // The first watch started after 2 calls at +3 each.
    EXPECT_EQ(counters.at("cluster.other.rq_total").number_value(), 5 + 3 * (2 + i));
    const auto& rates = sample.fields().at("rates").struct_value().fields();
    EXPECT_EQ(rates.size(), i == 0 ? 0u : 1u) << lines[i];
  }
}

TEST_F(RwctlFakeServerTest, StatsWatchStopsOnCtrlC) {
  fake_.set_stats(SomeStats(), 1);
  auto child = runner_.Start({"stats", "--watch", "50ms", "--server", fake_.address()});
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_TRUE(
      WaitFor([&] { return fake_.stats_calls() >= 2; }, std::chrono::seconds(20), "two samples"));
  ASSERT_EQ(::kill(child->pid, SIGINT), 0);
  auto waited = runner_.Wait(*child);
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(waited->exit_code, 0) << waited->Describe();
  EXPECT_THAT(waited->out, HasSubstr("rates over"));
}

TEST_F(RwctlFakeServerTest, StatsWatchEndsWithTheServer) {
  auto port = UnusedPort();
  ASSERT_TRUE(port.ok());
  RwctlResult r = Rwctl(
      {"stats", "--watch", "50ms", "--count", "2", "--server", absl::StrCat("127.0.0.1:", *port)});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("unavailable"));
}

TEST_F(RwctlFakeServerTest, ApplyAndRollbackJsonPrintOneObjectPerTarget) {
  RwctlResult r = Ctl({"apply", routes_, "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, absl::StrCat(R"({"target":")", fake_.address(),
                                R"(","version":2,"changed":true,"content_hash":")",
                                FakeControlPlane::HashOf(2), "\"}\n"));
  EXPECT_EQ(r.err, "");
  r = Ctl({"apply", routes_, "-o", "json", "--dry-run"});
  EXPECT_EQ(r.out, absl::StrCat(R"({"target":")", fake_.address(),
                                R"(","version":2,"changed":false,"content_hash":")",
                                FakeControlPlane::HashOf(2), "\",\"dry_run\":true}\n"))
      << r.Describe();

  FakeControlPlane second;
  second.set_reject(FakeControlPlane::Reject::kWithMetadata, {V("routes[0].cluster", "unknown")});
  auto port = UnusedPort();
  ASSERT_TRUE(port.ok());
  const std::string down = absl::StrCat("127.0.0.1:", *port);
  std::string changed =
      runner_.WriteFile("changed.yaml", absl::StrReplaceAll(kRoutes, {{"api", "v1"}}));
  r = Rwctl({"apply", changed, "-o", "json", "--server", fake_.address(), "--server",
             second.address(), "--server", down});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r.Describe();
  for (const auto& line : lines) EXPECT_TRUE(ParsesAsJson(line)) << line;
  EXPECT_EQ(lines[0], absl::StrCat(R"({"target":")", fake_.address(),
                                   R"(","version":3,"changed":true,"content_hash":")",
                                   FakeControlPlane::HashOf(3), "\"}"));
  EXPECT_EQ(lines[1],
            absl::StrCat(R"({"target":")", second.address(),
                         R"(","version":0,"changed":false,"content_hash":"",)",
                         R"("error":"rejected: 1 violation","code":"invalid_argument",)",
                         R"("violations":[")", changed, R"(:8:5: routes[0].cluster: unknown"]})"));
  EXPECT_THAT(lines[2],
              HasSubstr(absl::StrCat(R"({"target":")", down, R"(","version":0,"changed":false,)")));
  EXPECT_THAT(lines[2], HasSubstr(R"(,"error":"unavailable: )"));
  EXPECT_THAT(lines[2], HasSubstr(R"(,"code":"unavailable"})"));

  r = Ctl({"rollback", "2", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, absl::StrCat(R"({"target":")", fake_.address(),
                                R"(","version":4,"changed":true,"content_hash":")",
                                FakeControlPlane::HashOf(4), "\"}\n"));
  r = Ctl({"rollback", "99", "-o", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(ParsesAsJson(r.out)) << r.out;
  EXPECT_THAT(
      r.out,
      HasSubstr(R"("error":"not_found: version 99 is not in the history","code":"not_found"})"));
  r = Ctl({"rollback", "2"});  // text is unchanged
  EXPECT_EQ(r.out, "unchanged, version 4 already has the content of version 2\n") << r.Describe();
}

TEST_F(RwctlFakeServerTest, HistoryShowsSourceAndPeer) {
  ASSERT_EQ(Ctl({"apply", routes_, "-m", "first push"}).exit_code, 0);
  ASSERT_EQ(Ctl({"rollback", "1"}).exit_code, 0);
  RwctlResult r = Ctl({"history"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << r.out;
  using ::testing::ElementsAre;
  EXPECT_THAT(Cells(lines[0]),
              ElementsAre("VERSION", "APPLIED (UTC)", "HASH", "SOURCE", "PEER", "DESCRIPTION"));
  const std::string peer = "ipv4:127\\.0\\.0\\.1:[0-9]+";
  EXPECT_THAT(lines[1], MatchesRegex("3 +2024-05-01T10:00:03Z +" + FakeControlPlane::HashOf(3) +
                                     " +rollback +" + peer + " +rollback to version 1"))
      << r.out;
  EXPECT_THAT(lines[2], MatchesRegex("2 +2024-05-01T10:00:02Z +" + FakeControlPlane::HashOf(2) +
                                     " +api +" + peer + " +first push"))
      << r.out;
  EXPECT_THAT(lines[3], MatchesRegex("1 +2024-05-01T10:00:01Z +" + FakeControlPlane::HashOf(1) +
                                     " +boot +- +initial"))
      << r.out;
  // Same columns as the header.
  EXPECT_EQ(lines[2].find("api"), lines[0].find("SOURCE"));
  EXPECT_EQ(lines[2].find("ipv4:"), lines[0].find("PEER"));

  r = Ctl({"history", "-o", "json"});
  rwproxy::control::v1::ListVersionsResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &parsed).ok()) << r.out;
  ASSERT_EQ(parsed.versions_size(), 3);
  EXPECT_EQ(parsed.versions(1).source(), "api");
  EXPECT_THAT(parsed.versions(1).peer(), MatchesRegex(peer));
}

TEST_F(RwctlFakeServerTest, VersionPrintsClientAndServer) {
  const std::string client = std::string("client: rwctl ") + RWPROXY_VERSION + "\n";
  RwctlResult r = Ctl({"version"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, client + "server: rwproxy 9.8.7-fake at " + fake_.address() +
                       ", up 1h2m3s, config version 1\n");
  r = Ctl({"version", "-o", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, absl::StrCat(R"({"client_version":")", RWPROXY_VERSION, R"(","server":")",
                                fake_.address(), R"(","server_version":"9.8.7-fake",)",
                                R"("started_unix_ms":1714557600000,"uptime_seconds":3723,)",
                                R"("config_version":1})", "\n"));

  fake_.set_server_info(false);
  r = Ctl({"version"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, client + "server: rwproxy at " + fake_.address() +
                       ", version unknown (it does not implement GetServerInfo)\n");

  auto port = UnusedPort();
  ASSERT_TRUE(port.ok());
  const std::string down = absl::StrCat("127.0.0.1:", *port);
  r = Rwctl({"version", "--server", down});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_EQ(r.out, client);
  EXPECT_THAT(r.err, HasSubstr("rwctl: server " + down + ": error: unavailable"));
  r = Rwctl({"version", "--server", down, "-o", "json"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_TRUE(ParsesAsJson(r.out)) << r.out;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(R"({"client_version":")", RWPROXY_VERSION,
                                            R"(","server":")", down, R"(","error":"unavailable)")));
  fake_.set_server_info(true);
  fake_.set_token("s3cret");
  EXPECT_EQ(Ctl({"version"}).exit_code, 3);
}

TEST_F(RwctlFakeServerTest, DiffAndExplainErrorsNeverExitLikeDiffersOrNoMatch) {
  // diff: 0 same, 1 differs.
  ASSERT_EQ(Ctl({"apply", routes_}).exit_code, 0);
  EXPECT_EQ(Ctl({"diff", routes_}).exit_code, 0);
  std::string changed =
      runner_.WriteFile("changed.yaml", absl::StrReplaceAll(kRoutes, {{"/$1", "/v2/$1"}}));
  EXPECT_EQ(Ctl({"diff", changed}).exit_code, 1);
  // Errors: 4, or 2 (usage) / 3 (unreachable).
  std::string bad = runner_.WriteFile(
      "bad.yaml", absl::StrReplaceAll(kRoutes, {{"    cluster: app", "    clustr: app"}}));
  RwctlResult r = Ctl({"diff", bad});
  EXPECT_EQ(r.exit_code, 4) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(bad + ":8:5: routes[0].clustr"));
  EXPECT_EQ(Ctl({"diff", runner_.dir() + "/missing.yaml"}).exit_code, 4);
  EXPECT_EQ(Ctl({"diff", "-"}, "  \n").exit_code, 4);
  EXPECT_EQ(Rwctl({"diff"}).exit_code, 2);

  // explain: 0 match, 1 no match.
  rwproxy::control::v1::ExplainResponse explain;
  explain.set_matched(true);
  explain.set_route("api");
  fake_.set_explain(explain);
  EXPECT_EQ(Ctl({"explain", "GET", "/api/x"}).exit_code, 0);
  explain.set_matched(false);
  fake_.set_explain(explain);
  r = Ctl({"explain", "GET", "/nothing"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("no route matches"));
  EXPECT_EQ(Ctl({"explain", "GET", "/", "-H", "no-colon"}).exit_code, 2);

  // A server-side error (exit 1 for other commands) is 4 for both.
  fake_.set_read_error(grpc::Status(grpc::StatusCode::INTERNAL, "boom"));
  r = Ctl({"diff", routes_});
  EXPECT_EQ(r.exit_code, 4) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("error: internal: boom"));
  r = Ctl({"explain", "GET", "/api/x"});
  EXPECT_EQ(r.exit_code, 4) << r.Describe();
  EXPECT_EQ(Ctl({"get"}).exit_code, 1);
  fake_.set_read_error(grpc::Status(grpc::StatusCode::NOT_FOUND, "gone"));
  EXPECT_EQ(Ctl({"diff", routes_}).exit_code, 4);
  EXPECT_EQ(Ctl({"explain", "GET", "/"}).exit_code, 4);
  fake_.set_read_error(grpc::Status::OK);

  // Unreachable or unauthorized: 3.
  fake_.set_token("s3cret");
  EXPECT_EQ(Ctl({"diff", routes_}).exit_code, 3);
  EXPECT_EQ(Ctl({"explain", "GET", "/"}).exit_code, 3);
  auto port = UnusedPort();
  ASSERT_TRUE(port.ok());
  const std::string down = absl::StrCat("127.0.0.1:", *port);
  EXPECT_EQ(Rwctl({"diff", routes_, "--server", down}).exit_code, 3);
  EXPECT_EQ(Rwctl({"explain", "GET", "/", "--server", down}).exit_code, 3);

  RwctlResult help = Rwctl({"--help"});
  EXPECT_THAT(help.out, HasSubstr("  4  diff, explain: any other error"));
}

// Runs the completion function for the words of a command line (the last one is being
// completed) and returns COMPREPLY, sorted.
std::set<std::string> Complete(const std::vector<std::string>& words) {
  std::string array;
  for (const auto& word : words) absl::StrAppend(&array, " '", word, "'");
  const std::string script = absl::StrCat("source '", RWCTL_COMPLETION, "'; COMP_WORDS=(", array,
                                          "); COMP_CWORD=", words.size() - 1,
                                          "; _rwctl; printf '%s\\n' \"${COMPREPLY[@]}\"");
  FILE* pipe = ::popen(absl::StrCat("bash --norc --noprofile -c '",
                                    absl::StrReplaceAll(script, {{"'", "'\\''"}}), "'")
                           .c_str(),
                       "r");
  std::set<std::string> out;
  if (pipe == nullptr) return out;
  char line[512];
  while (fgets(line, sizeof line, pipe) != nullptr) {
    std::string word(absl::StripTrailingAsciiWhitespace(line));
    if (!word.empty()) out.insert(word);
  }
  ::pclose(pipe);
  return out;
}

// The long flags of the options a --help text lists (not those its footer mentions).
std::set<std::string> LongFlags(std::string help) {
  help = help.substr(0, help.find("Exit codes:"));
  std::set<std::string> flags;
  for (size_t at = help.find("--"); at != std::string::npos; at = help.find("--", at + 2)) {
    size_t end = at + 2;
    while (end < help.size() && (absl::ascii_isalnum(help[end]) || help[end] == '-')) ++end;
    if (end > at + 2 && (at == 0 || help[at - 1] == ' ' || help[at - 1] == ',')) {
      flags.insert(help.substr(at, end - at));
    }
  }
  return flags;
}

TEST_F(RwctlFakeServerTest, CompletionKnowsEverySubcommandFlagAndFormat) {
  using ::testing::IsSupersetOf;
  const std::vector<std::string> subcommands = {"apply", "rollback", "validate", "get",
                                                "diff",  "history",  "watch",    "explain",
                                                "stats", "version"};
  std::set<std::string> top = Complete({"rwctl", ""});
  for (const auto& sub : subcommands) EXPECT_TRUE(top.contains(sub)) << sub;
  RwctlResult help = Rwctl({"--help"});
  for (const auto& sub : subcommands) EXPECT_THAT(help.out, HasSubstr("  " + sub)) << sub;

  // Every long flag of every subcommand's --help is offered after `rwctl SUB --`.
  for (const auto& sub : subcommands) {
    RwctlResult sub_help = Rwctl({sub, "--help"});
    ASSERT_EQ(sub_help.exit_code, 0) << sub_help.Describe();
    std::set<std::string> offered = Complete({"rwctl", sub, "--"});
    for (const auto& flag : LongFlags(sub_help.out)) {
      EXPECT_TRUE(offered.contains(flag)) << "rwctl " << sub << " " << flag;
    }
  }
  for (const char* sub : {"routes", "clusters"}) {
    RwctlResult sub_help = Rwctl({"get", sub, "--help"});
    std::set<std::string> offered = Complete({"rwctl", "get", sub, "--"});
    for (const auto& flag : LongFlags(sub_help.out)) {
      EXPECT_TRUE(offered.contains(flag)) << "rwctl get " << sub << " " << flag;
    }
  }

  {
    RwctlResult import_help = Rwctl({"import", "apache", "--help"});
    ASSERT_EQ(import_help.exit_code, 0) << import_help.Describe();
    std::set<std::string> offered = Complete({"rwctl", "import", "apache", "--"});
    for (const auto& flag : LongFlags(import_help.out)) {
      EXPECT_TRUE(offered.contains(flag)) << "rwctl import apache " << flag;
    }
    EXPECT_TRUE(top.contains("import"));
    EXPECT_EQ(Complete({"rwctl", "import", ""}), (std::set<std::string>{"apache"}));
    EXPECT_EQ(Complete({"rwctl", "import", "apache", "-o", ""}),
              (std::set<std::string>{"json", "yaml"}));
  }
  EXPECT_EQ(Complete({"rwctl", "get", ""}), (std::set<std::string>{"clusters", "routes"}));
  EXPECT_EQ(Complete({"rwctl", "--server", "a:1", "get", "routes", "-o", ""}),
            (std::set<std::string>{"json", "text", "yaml"}));
  EXPECT_EQ(Complete({"rwctl", "get", "-o", ""}), (std::set<std::string>{"json", "yaml"}));
  EXPECT_EQ(Complete({"rwctl", "stats", "-o", "j"}), (std::set<std::string>{"json"}));
  EXPECT_EQ(Complete({"rwctl", "explain", "P"}), (std::set<std::string>{"PATCH", "POST", "PUT"}));
  EXPECT_THAT(Complete({"rwctl", "stats", "--"}),
              IsSupersetOf({"--filter", "--watch", "--count", "--server", "--timeout"}));
  EXPECT_THAT(Complete({"rwctl", "apply", routes_.substr(0, routes_.size() - 3)}),
              IsSupersetOf({routes_}));
}

}  // namespace
}  // namespace rwtest
