// The import report of `rwctl import apache`: one verdict per directive, in file order, then
// notes and a summary line.
//
//   httpd.conf:12: converted: RewriteRule ^/shop/(.*)$ http://localhost:8081/m/$1 [P,L] -> route
//   rewrite-1 httpd.conf:14: approximated: ProxyPassReverse / http://b:8081/ -> routes proxypass-1
//   (why) httpd.conf:20: refused: RewriteRule ^/(.*)$ /x/$1 [PT] (why) httpd.conf:3: ignored:
//   Listen 80 (why) note: ... 42 directives: 30 converted, 2 approximated, 1 refused, 9 ignored
//
// Verdict kinds: converted (rwproxy does what Apache does), approximated (it does something
// close; the note says how it differs), refused (not converted; the note says why), ignored
// (no effect on proxying, e.g. Listen, LoadModule, logging).
//
// Ownership: a Report is owned by the import that fills it. Thread-safety: one thread.
#ifndef RWPROXY_CLI_IMPORT_REPORT_H_
#define RWPROXY_CLI_IMPORT_REPORT_H_

#include <string>
#include <vector>

namespace rwproxy::cli::apache {

struct Node;

// Ordered from best to worst: a directive seen several times keeps its worst verdict.
enum class VerdictKind { kIgnored, kConverted, kApproximated, kRefused };

const char* VerdictName(VerdictKind kind);

struct Verdict {
  std::string file;
  int line = 0;
  std::string text;  // the directive as written
  VerdictKind kind = VerdictKind::kIgnored;
  std::vector<std::string> notes;
  std::vector<std::string> routes;  // names of the routes it became
};

class Report {
 public:
  // A new verdict for `node`; returns its id.
  int Add(const Node& node, VerdictKind kind, const std::string& note = "");
  // Records that the directive (also) came out as `kind`: the worse kind wins; a new note is
  // appended unless already there.
  void Set(int id, VerdictKind kind, const std::string& note = "");
  void AddRoute(int id, const std::string& route);
  // A line "note: TEXT" after the verdicts (once per distinct text).
  void AddNote(const std::string& text);

  const Verdict& verdict(int id) const { return verdicts_.at(id); }
  const std::vector<Verdict>& verdicts() const { return verdicts_; }
  int Count(VerdictKind kind) const;
  // True when a directive was approximated or refused (what --strict fails on).
  bool Inexact() const {
    return Count(VerdictKind::kApproximated) + Count(VerdictKind::kRefused) > 0;
  }
  // "42 directives: 30 converted, 2 approximated, 1 refused, 9 ignored"
  std::string Summary() const;
  // Every verdict line, the notes, the summary; each line ends with '\n'.
  std::string Format() const;

 private:
  std::vector<Verdict> verdicts_;
  std::vector<std::string> notes_;
};

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_REPORT_H_
