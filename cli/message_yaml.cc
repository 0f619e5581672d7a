#include "cli/message_yaml.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "yaml-cpp/yaml.h"

namespace rwproxy::cli {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// True when a plain scalar would read as something other than a string.
bool LooksTyped(const std::string& s) {
  if (s.empty()) return true;
  static constexpr const char* kWords[] = {"true", "false", "yes",  "no", "on",   "off",
                                           "y",    "n",     "null", "~",  ".inf", ".nan"};
  std::string lower = absl::AsciiStrToLower(s);
  if (lower.front() == '-' || lower.front() == '+') lower.erase(0, 1);
  for (const char* word : kWords) {
    if (lower == word) return true;
  }
  double d;
  if (absl::SimpleAtod(s, &d)) return true;
  const bool numeric_start = absl::ascii_isdigit(s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.';
  return numeric_start && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isxdigit(c) ||
                  std::string_view("xXoO_.+-").find(c) != std::string_view::npos;
         });
}

std::string DoubleText(double d) {
  if (std::isnan(d)) return ".nan";
  if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, end);
}

// Element `index` of a repeated field, or the singular value when index < 0.
void EmitScalar(YAML::Emitter& out, const Message& msg, const FieldDescriptor* f, int index) {
  const Reflection* r = msg.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(msg, f, index) : r->GetString(msg, f);
      if (LooksTyped(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      out << (rep ? r->GetRepeatedBool(msg, f, index) : r->GetBool(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      out << (rep ? r->GetRepeatedInt32(msg, f, index) : r->GetInt32(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out << absl::StrCat(rep ? r->GetRepeatedInt64(msg, f, index) : r->GetInt64(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out << (rep ? r->GetRepeatedUInt32(msg, f, index) : r->GetUInt32(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out << absl::StrCat(rep ? r->GetRepeatedUInt64(msg, f, index) : r->GetUInt64(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      out << DoubleText(rep ? r->GetRepeatedFloat(msg, f, index) : r->GetFloat(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      out << DoubleText(rep ? r->GetRepeatedDouble(msg, f, index) : r->GetDouble(msg, f));
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      out << (rep ? r->GetRepeatedEnum(msg, f, index) : r->GetEnum(msg, f))->name();
      break;
    default:
      break;
  }
}

void EmitMessage(YAML::Emitter& out, const Message& msg);

void EmitValue(YAML::Emitter& out, const Message& msg, const FieldDescriptor* f, int index) {
  if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    EmitScalar(out, msg, f, index);
  } else if (index >= 0) {
    EmitMessage(out, msg.GetReflection()->GetRepeatedMessage(msg, f, index));
  } else {
    EmitMessage(out, msg.GetReflection()->GetMessage(msg, f));
  }
}

void EmitMap(YAML::Emitter& out, const Message& msg, const FieldDescriptor* f) {
  const Reflection* r = msg.GetReflection();
  const FieldDescriptor* key = f->message_type()->map_key();
  const FieldDescriptor* value = f->message_type()->map_value();
  std::vector<std::pair<std::string, const Message*>> entries;
  for (int i = 0; i < r->FieldSize(msg, f); ++i) {
    const Message& entry = r->GetRepeatedMessage(msg, f, i);
    YAML::Emitter text;
    EmitScalar(text, entry, key, -1);
    entries.emplace_back(text.c_str(), &entry);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out << YAML::BeginMap;
  for (const auto& [text, entry] : entries) {
    out << YAML::Key;
    EmitScalar(out, *entry, key, -1);
    out << YAML::Value;
    EmitValue(out, *entry, value, -1);
  }
  out << YAML::EndMap;
}

void EmitMessage(YAML::Emitter& out, const Message& msg) {
  const google::protobuf::Descriptor* d = msg.GetDescriptor();
  const Reflection* r = msg.GetReflection();
  out << YAML::BeginMap;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    // Like the JSON: unset sub-messages and unset members of a oneof are left out.
    const bool singular_message =
        !f->is_repeated() && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if ((singular_message || f->containing_oneof() != nullptr) && !r->HasField(msg, f)) continue;
    out << YAML::Key << f->name() << YAML::Value;
    if (f->is_map()) {
      EmitMap(out, msg, f);
    } else if (f->is_repeated()) {
      if (r->FieldSize(msg, f) == 0) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (int j = 0; j < r->FieldSize(msg, f); ++j) EmitValue(out, msg, f, j);
      out << YAML::EndSeq;
    } else {
      EmitValue(out, msg, f, -1);
    }
  }
  out << YAML::EndMap;
}

}  // namespace

std::string MessageToYaml(const Message& message) {
  YAML::Emitter out;
  out.SetIndent(2);
  EmitMessage(out, message);
  std::string text = out.c_str();
  text.push_back('\n');
  return text;
}

}  // namespace rwproxy::cli
