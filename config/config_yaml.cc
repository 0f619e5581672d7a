// YAML -> Config through protobuf reflection. See config_yaml.h; ToYaml, Locate and FormatError
// live in config_yaml_emit.cc.
#include "config/config_yaml.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/utf8.h"
#include "config/yaml_load.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "yaml-cpp/yaml.h"

namespace rwproxy::yaml {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

Position FromMark(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string KindName(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "nothing";
  return absl::StrCat("'", node.Scalar(), "'");
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string UnknownFieldMessage(const Descriptor* desc, const std::string& name) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  std::vector<std::string> names;
  for (int i = 0; i < desc->field_count(); ++i) {
    const std::string& candidate = desc->field(i)->name();
    names.push_back(candidate);
    size_t d = EditDistance(absl::AsciiStrToLower(name), candidate);
    if (d < best_distance) best_distance = d, best = candidate;
  }
  if (!best.empty()) return absl::StrCat("unknown field '", name, "' (did you mean '", best, "'?)");
  return absl::StrCat("unknown field '", name, "' (expected one of: ", absl::StrJoin(names, ", "),
                      ")");
}

bool IsDecimalInteger(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  return !s.empty() && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
}

// One converted scalar; which member is meaningful depends on the field's cpp_type.
struct Scalar {
  std::string str;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  bool b = false;
  const EnumValueDescriptor* e = nullptr;
};

// Walks one YAML document into a message. Owned by ParseConfig; single thread.
class Parser {
 public:
  Parser(SourceMap* map, std::vector<YamlError>* errors) : map_(map), errors_(errors) {}

  void ParseMessage(const YAML::Node& node, Message* msg, const std::string& path);

 private:
  void Error(const YAML::Node& at, const std::string& path, std::string message) {
    Position pos = FromMark(at.Mark());
    if (pos.line == 0) pos = last_pos_;
    errors_->push_back({pos, path, std::move(message)});
  }
  void Record(const std::string& path, const YAML::Node& at) {
    Position pos = FromMark(at.Mark());
    if (pos.line != 0) last_pos_ = pos;
    if (map_ != nullptr) map_->emplace(path, last_pos_);
  }
  // Returns false (after reporting) when `node` is not a usable map key.
  bool CheckKey(const YAML::Node& key, const std::string& path,
                absl::flat_hash_map<std::string, Position>* seen);
  void ParseField(const YAML::Node& key, const YAML::Node& value, Message* msg,
                  const FieldDescriptor* field, const std::string& path);
  // Match.headers written as a map (name: exact value), the form before HeaderMatch, goes to
  // legacy_headers under the same field paths ("routes[0].match.headers.x-canary"). Returns
  // false (after reporting) when `value` fits neither form or both forms were written.
  bool ResolveHeaders(const YAML::Node& key, const YAML::Node& value, const Message& msg,
                      const FieldDescriptor** field, const std::string& path);
  void ParseList(const YAML::Node& node, Message* msg, const FieldDescriptor* field,
                 const std::string& path);
  void ParseMap(const YAML::Node& node, Message* msg, const FieldDescriptor* field,
                const std::string& path);
  bool ParseScalar(const YAML::Node& node, const FieldDescriptor* field, const std::string& path,
                   Scalar* out);
  bool ParseInteger(const YAML::Node& node, const FieldDescriptor* field, const std::string& path,
                    Scalar* out);
  // Converts `node` and stores it in `field` (appended if repeated). Returns false on error.
  bool StoreScalar(const YAML::Node& node, Message* msg, const FieldDescriptor* field,
                   const std::string& path);

  SourceMap* map_;
  std::vector<YamlError>* errors_;
  Position last_pos_{1, 1};
};

void Parser::ParseMessage(const YAML::Node& node, Message* msg, const std::string& path) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    Error(node, path, absl::StrCat("expected a map, got ", KindName(node)));
    return;
  }
  const Descriptor* desc = msg->GetDescriptor();
  absl::flat_hash_map<std::string, Position> seen;
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (!CheckKey(key, path, &seen)) continue;
    const std::string& name = key.Scalar();
    std::string child = path.empty() ? name : absl::StrCat(path, ".", name);
    const FieldDescriptor* field = desc->FindFieldByName(name);
    if (field == nullptr) {
      Error(key, child, UnknownFieldMessage(desc, name));
      continue;
    }
    Record(child, key);
    ParseField(key, entry.second, msg, field, child);
  }
}

bool Parser::CheckKey(const YAML::Node& key, const std::string& path,
                      absl::flat_hash_map<std::string, Position>* seen) {
  if (!key.IsScalar()) {
    Error(key, path, absl::StrCat("keys must be plain strings, got ", KindName(key)));
    return false;
  }
  Position pos = FromMark(key.Mark());
  auto [it, inserted] = seen->emplace(key.Scalar(), pos);
  if (!inserted) {
    std::string child = path.empty() ? key.Scalar() : absl::StrCat(path, ".", key.Scalar());
    Error(key, child,
          absl::StrCat("duplicate key '", key.Scalar(), "' (first at line ", it->second.line, ")"));
    return false;
  }
  return true;
}

bool IsMatchField(const FieldDescriptor* field, int number) {
  return field->containing_type() == config::v1::Match::descriptor() && field->number() == number;
}

bool Parser::ResolveHeaders(const YAML::Node& key, const YAML::Node& value, const Message& msg,
                            const FieldDescriptor** field, const std::string& path) {
  using config::v1::Match;
  if (IsMatchField(*field, Match::kHeadersFieldNumber) && value.IsMap()) {
    *field = Match::descriptor()->FindFieldByNumber(Match::kLegacyHeadersFieldNumber);
  }
  if (IsMatchField(*field, Match::kLegacyHeadersFieldNumber) &&
      msg.GetReflection()->FieldSize(msg, *field) > 0) {
    Error(key, path, "'headers' as a map and 'legacy_headers' are the same field: write one");
    return false;
  }
  if (IsMatchField(*field, Match::kHeadersFieldNumber) && !value.IsNull() && !value.IsSequence()) {
    Error(value, path,
          absl::StrCat("expected a list of conditions ({name, exact | regex | present}) or a map "
                       "(name: exact value), got ",
                       KindName(value)));
    return false;
  }
  return true;
}

void Parser::ParseField(const YAML::Node& key, const YAML::Node& value, Message* msg,
                        const FieldDescriptor* field, const std::string& path) {
  const Reflection* refl = msg->GetReflection();
  if (!ResolveHeaders(key, value, *msg, &field, path)) return;
  if (const auto* oneof = field->real_containing_oneof()) {
    const FieldDescriptor* other = refl->GetOneofFieldDescriptor(*msg, oneof);
    if (other != nullptr && other != field) {
      std::vector<std::string> members;
      for (int i = 0; i < oneof->field_count(); ++i) members.push_back(oneof->field(i)->name());
      Error(key, path,
            absl::StrCat("'", field->name(), "' conflicts with '", other->name(),
                         "': set only one of ", absl::StrJoin(members, ", ")));
      return;
    }
  }
  if (field->is_map()) {
    ParseMap(value, msg, field, path);
  } else if (field->is_repeated()) {
    ParseList(value, msg, field, path);
  } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    if (!value.IsNull() && !value.IsMap()) {
      Error(value, path, absl::StrCat("expected a map, got ", KindName(value)));
      return;
    }
    ParseMessage(value, refl->MutableMessage(msg, field), path);
  } else {
    StoreScalar(value, msg, field, path);
  }
}

void Parser::ParseList(const YAML::Node& node, Message* msg, const FieldDescriptor* field,
                       const std::string& path) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    Error(node, path, absl::StrCat("expected a list, got ", KindName(node)));
    return;
  }
  const Reflection* refl = msg->GetReflection();
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node elem = node[i];
    std::string child = absl::StrCat(path, "[", i, "]");
    Record(child, elem);
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!elem.IsNull() && !elem.IsMap()) {
        Error(elem, child, absl::StrCat("expected a map, got ", KindName(elem)));
        continue;
      }
      ParseMessage(elem, refl->AddMessage(msg, field), child);
    } else {
      StoreScalar(elem, msg, field, child);
    }
  }
}

void Parser::ParseMap(const YAML::Node& node, Message* msg, const FieldDescriptor* field,
                      const std::string& path) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    Error(node, path, absl::StrCat("expected a map, got ", KindName(node)));
    return;
  }
  const Reflection* refl = msg->GetReflection();
  const FieldDescriptor* key_field = field->message_type()->map_key();
  const FieldDescriptor* value_field = field->message_type()->map_value();
  absl::flat_hash_map<std::string, Position> seen;
  for (const auto& entry : node) {
    if (!CheckKey(entry.first, path, &seen)) continue;
    std::string child = absl::StrCat(path, ".", entry.first.Scalar());
    Record(child, entry.first);
    Message* item = refl->AddMessage(msg, field);
    bool ok = StoreScalar(entry.first, item, key_field, child);
    if (ok && value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      ParseField(entry.first, entry.second, item, value_field, child);
    } else if (ok) {
      ok = StoreScalar(entry.second, item, value_field, child);
    }
    if (!ok) refl->RemoveLast(msg, field);
  }
}

bool Parser::ParseInteger(const YAML::Node& node, const FieldDescriptor* field,
                          const std::string& path, Scalar* out) {
  const std::string& text = node.Scalar();
  bool is_unsigned = field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32 ||
                     field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64;
  const char* want = is_unsigned ? "a non-negative integer" : "an integer";
  if (node.Tag() == "!" || !IsDecimalInteger(text)) {
    Error(node, path, absl::StrCat("expected ", want, ", got ", KindName(node)));
    return false;
  }
  bool ok = false;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v = 0;
      ok = absl::SimpleAtoi(text, &v);
      out->i = v;
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64:
      ok = absl::SimpleAtoi(text, &out->i);
      break;
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v = 0;
      ok = text[0] != '-' && absl::SimpleAtoi(text, &v);
      out->u = v;
      break;
    }
    default:
      ok = text[0] != '-' && absl::SimpleAtoi(text, &out->u);
      break;
  }
  if (!ok && is_unsigned && text[0] == '-') {
    Error(node, path, absl::StrCat("expected ", want, ", got ", KindName(node)));
  } else if (!ok) {
    Error(node, path,
          absl::StrCat("value ", text, " is out of range for ", field->cpp_type_name()));
  }
  return ok;
}

bool Parser::ParseScalar(const YAML::Node& node, const FieldDescriptor* field,
                         const std::string& path, Scalar* out) {
  const auto type = field->cpp_type();
  if (node.IsNull() && type == FieldDescriptor::CPPTYPE_STRING) return true;  // ""
  if (!node.IsScalar()) {
    const char* want = type == FieldDescriptor::CPPTYPE_STRING ? "a string" : "a value";
    Error(node, path, absl::StrCat("expected ", want, ", got ", KindName(node)));
    return false;
  }
  const std::string& text = node.Scalar();
  bool quoted = node.Tag() == "!";
  switch (type) {
    case FieldDescriptor::CPPTYPE_STRING:
      // Protobuf (and so gRPC) refuses a string that is not UTF-8: say so here, located.
      if (const size_t bad = utf8::FirstInvalid(text); bad != std::string::npos) {
        Error(node, path,
              absl::StrCat("not valid UTF-8 (byte ", bad, " of the string is 0x",
                           absl::Hex(static_cast<unsigned char>(text[bad]), absl::kZeroPad2), ")"));
        return false;
      }
      out->str = text;
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!quoted && (text == "true" || text == "True" || text == "TRUE")) {
        out->b = true;
        return true;
      }
      if (!quoted && (text == "false" || text == "False" || text == "FALSE")) return true;
      Error(node, path, absl::StrCat("expected true or false, got ", KindName(node)));
      return false;
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      std::string lower = absl::AsciiStrToLower(text);
      if (!quoted && (lower == ".inf" || lower == "+.inf")) {
        out->d = std::numeric_limits<double>::infinity();
      } else if (!quoted && lower == "-.inf") {
        out->d = -std::numeric_limits<double>::infinity();
      } else if (!quoted && lower == ".nan") {
        out->d = std::numeric_limits<double>::quiet_NaN();
      } else if (quoted || lower.find_first_of("0123456789") == std::string::npos ||
                 lower.find_first_of("xn") != std::string::npos ||
                 !absl::SimpleAtod(text, &out->d)) {
        Error(node, path, absl::StrCat("expected a number, got ", KindName(node)));
        return false;
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      out->e = field->enum_type()->FindValueByName(text);
      if (out->e != nullptr) return true;
      std::vector<std::string> names;
      for (int i = 0; i < field->enum_type()->value_count(); ++i) {
        names.push_back(field->enum_type()->value(i)->name());
      }
      Error(node, path,
            absl::StrCat("unknown value '", text,
                         "' (expected one of: ", absl::StrJoin(names, ", "), ")"));
      return false;
    }
    default:
      return ParseInteger(node, field, path, out);
  }
}

bool Parser::StoreScalar(const YAML::Node& node, Message* msg, const FieldDescriptor* field,
                         const std::string& path) {
  Scalar v;
  if (!ParseScalar(node, field, path, &v)) return false;
  const Reflection* r = msg->GetReflection();
  const bool rep = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      rep ? r->AddString(msg, field, v.str) : r->SetString(msg, field, v.str);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      rep ? r->AddBool(msg, field, v.b) : r->SetBool(msg, field, v.b);
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      rep ? r->AddInt32(msg, field, v.i) : r->SetInt32(msg, field, v.i);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      rep ? r->AddInt64(msg, field, v.i) : r->SetInt64(msg, field, v.i);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      rep ? r->AddUInt32(msg, field, v.u) : r->SetUInt32(msg, field, v.u);
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      rep ? r->AddUInt64(msg, field, v.u) : r->SetUInt64(msg, field, v.u);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      rep ? r->AddFloat(msg, field, v.d) : r->SetFloat(msg, field, v.d);
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      rep ? r->AddDouble(msg, field, v.d) : r->SetDouble(msg, field, v.d);
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      rep ? r->AddEnum(msg, field, v.e) : r->SetEnum(msg, field, v.e);
      break;
    default:
      return false;
  }
  return true;
}

}  // namespace

bool ParseConfig(std::string_view text, config::v1::Config* out, SourceMap* map,
                 std::vector<YamlError>* errors) {
  out->Clear();
  if (map != nullptr) map->clear();
  const size_t errors_before = errors->size();
  YAML::Node doc;
  std::optional<YAML::Mark> second;
  try {
    doc = LoadFirstDocument(std::string(text), &second);
  } catch (const YAML::Exception& e) {
    errors->push_back({FromMark(e.mark), "", e.msg});
    return false;
  } catch (const std::exception& e) {
    errors->push_back({{}, "", e.what()});
    return false;
  }
  if (second.has_value()) {
    errors->push_back({FromMark(*second), "", "expected one YAML document, got more"});
  }
  if (doc.IsNull()) {
    if (map != nullptr) map->emplace("", Position{1, 1});
    return errors->size() == errors_before;
  }
  try {
    Parser parser(map, errors);
    Position root = FromMark(doc.Mark());
    if (map != nullptr) map->emplace("", root.line == 0 ? Position{1, 1} : root);
    parser.ParseMessage(doc, out, "");
  } catch (const YAML::Exception& e) {  // not expected: the walk only reads parsed nodes
    errors->push_back({FromMark(e.mark), "", e.msg});
  }
  return errors->size() == errors_before;
}

}  // namespace rwproxy::yaml
