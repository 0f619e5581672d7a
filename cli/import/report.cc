#include "cli/import/report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/import/apache_parser.h"

namespace rwproxy::cli::apache {

const char* VerdictName(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::kConverted:
      return "converted";
    case VerdictKind::kApproximated:
      return "approximated";
    case VerdictKind::kRefused:
      return "refused";
    case VerdictKind::kIgnored:
      return "ignored";
  }
  return "?";
}

int Report::Add(const Node& node, VerdictKind kind, const std::string& note) {
  Verdict verdict;
  verdict.file = node.file;
  verdict.line = node.line;
  verdict.text = node.Text();
  verdict.kind = kind;
  if (!note.empty()) verdict.notes.push_back(note);
  verdicts_.push_back(std::move(verdict));
  return static_cast<int>(verdicts_.size()) - 1;
}

void Report::Set(int id, VerdictKind kind, const std::string& note) {
  Verdict& verdict = verdicts_.at(id);
  verdict.kind = std::max(verdict.kind, kind);
  if (!note.empty() &&
      std::find(verdict.notes.begin(), verdict.notes.end(), note) == verdict.notes.end()) {
    verdict.notes.push_back(note);
  }
}

void Report::AddRoute(int id, const std::string& route) {
  std::vector<std::string>& routes = verdicts_.at(id).routes;
  if (std::find(routes.begin(), routes.end(), route) == routes.end()) routes.push_back(route);
}

void Report::AddNote(const std::string& text) {
  if (std::find(notes_.begin(), notes_.end(), text) == notes_.end()) notes_.push_back(text);
}

int Report::Count(VerdictKind kind) const {
  return static_cast<int>(std::count_if(verdicts_.begin(), verdicts_.end(),
                                        [kind](const Verdict& v) { return v.kind == kind; }));
}

std::string Report::Summary() const {
  return absl::StrCat(verdicts_.size(), " directive", verdicts_.size() == 1 ? "" : "s", ": ",
                      Count(VerdictKind::kConverted), " converted, ",
                      Count(VerdictKind::kApproximated), " approximated, ",
                      Count(VerdictKind::kRefused), " refused, ", Count(VerdictKind::kIgnored),
                      " ignored");
}

std::string Report::Format() const {
  std::string out;
  for (const Verdict& v : verdicts_) {
    absl::StrAppend(&out, v.file, ":", v.line, ": ", VerdictName(v.kind), ": ", v.text);
    if (!v.routes.empty()) {
      absl::StrAppend(&out, " -> route", v.routes.size() == 1 ? " " : "s ",
                      absl::StrJoin(v.routes, ", "));
    }
    if (!v.notes.empty()) absl::StrAppend(&out, " (", absl::StrJoin(v.notes, "; "), ")");
    out += "\n";
  }
  for (const std::string& note : notes_) absl::StrAppend(&out, "note: ", note, "\n");
  absl::StrAppend(&out, Summary(), "\n");
  return out;
}

}  // namespace rwproxy::cli::apache
