#include "config/yaml_load.h"

#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "yaml-cpp/eventhandler.h"

namespace rwproxy::yaml {
namespace {

// True when a line of `text` starts with a document marker ("---" or "..."): after a block map
// (a config file's usual root), another document can only come after one.
bool HasDocumentMarker(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    const std::string_view line = text.substr(at, 3);
    if (line == "---" || line == "...") return true;
    const size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  return false;
}

// Where the documents of a YAML stream start (the mark of each one's first node), without
// building them; reads at most two.
class DocumentStarts : public YAML::EventHandler {
 public:
  static std::vector<YAML::Mark> Of(const std::string& text) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    for (int i = 0; i < 2 && parser.HandleNextDocument(starts); ++i) {
    }
    return std::move(starts.marks_);
  }

  void OnDocumentStart(const YAML::Mark&) override { first_ = true; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (first_) marks_.push_back(mark);
    first_ = false;
  }

  bool first_ = false;
  std::vector<YAML::Mark> marks_;
};

}  // namespace

YAML::Node LoadFirstDocument(const std::string& text, std::optional<YAML::Mark>* second) {
  second->reset();
  YAML::Node doc = YAML::Load(text);
  // A flow or scalar root may be followed by junk that YAML::Load ignores; after a block map,
  // another document can only follow a marker.
  if (!doc.IsMap() || doc.Style() != YAML::EmitterStyle::Block || HasDocumentMarker(text)) {
    std::vector<YAML::Mark> starts = DocumentStarts::Of(text);
    if (starts.size() > 1) *second = starts[1];
  }
  return doc;
}

}  // namespace rwproxy::yaml
