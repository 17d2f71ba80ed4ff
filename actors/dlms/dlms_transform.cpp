// `dlms` transform: decodes (and decrypts) DLMS/COSEM push messages from a meter's raw byte
// stream into `smartmeter` records. The decoding core is actors/dlms/decoder.hpp; this file only
// adapts it to the runtime: bad frames are counted per kind and logged at a bounded rate, never
// stopping the node. Keys are secrets: they never reach logs, status or diagnostics.

#include "actors/dlms/decoder.hpp"
#include "actors/dlms/obis_map.hpp"
#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"
#include "engine/yaml_location.hpp"

#include <date/tz.h>

namespace wattline::transforms {
namespace {

std::vector<std::string> profile_names() {
  std::vector<std::string> out;
  for (const auto& p : dlms::profiles())
    out.emplace_back(p.name);
  return out;
}

dlms::transport parse_transport(const std::string& s) {
  if (s == "hdlc")
    return dlms::transport::hdlc;
  if (s == "mbus")
    return dlms::transport::mbus;
  if (s == "raw")
    return dlms::transport::raw;
  return dlms::transport::auto_detect;
}

/// Builds decoder options; returns an error message per bad option (never containing a key).
dlms::options decoder_options(const options& o,
                              std::vector<std::pair<std::string, std::string>>* errors = nullptr) {
  dlms::options d;
  d.profile = o.str("profile", "generic");
  d.timezone = o.str("timezone");
  d.fields = o.strings("fields");
  d.fallback_id = o.str("meter_id");
  d.system_time = o.boolean("system_time");
  d.framing = parse_transport(o.str("transport", "auto"));
  for (const char* name : {"key", "auth_key"}) {
    auto text = o.str(name);
    if (text.empty())
      continue;
    auto& slot = std::string_view{name} == "key" ? d.key : d.auth_key;
    if (auto err = dlms::parse_key(text, slot); !err.empty() && errors)
      errors->emplace_back(name, err);
  }
  return d;
}

class dlms_instance final : public component_instance {
public:
  explicit dlms_instance(const node_spec& spec) : decoder_(decoder_options(spec.opts)) {}

  bool on_batch(batch& in, node_context& ctx) override {
    dlms::decode_result out;
    for (const auto& c : in.chunks)
      decoder_.feed(c.bytes, c.time_ns, out);
    for (const auto& e : out.errors)
      ctx.error(dlms::error_name(e.kind), e.message);
    if (!out.records.empty()) {
      batch b;
      b.records = std::move(out.records);
      ctx.emit(std::move(b));
    }
    return true;
  }

private:
  dlms::decoder decoder_;
};

component_descriptor describe_dlms() {
  component_descriptor d;
  d.type = "dlms";
  d.role = component_role::transform;
  d.summary = "Decodes and decrypts DLMS/COSEM push messages (HDLC, M-Bus, raw) from a meter's "
              "byte stream into smartmeter records.";
  d.input = data_kind::bytes;
  d.output = data_kind::records;
  d.options = {
      {.name = "profile",
       .doc = "Meter profile: selects per-meter scale factors and value-only field lists.",
       .default_value = "generic",
       .allowed = profile_names()},
      {.name = "key",
       .doc = "Encryption key (GUEK), 32 hex digits; usually ${METER_KEY} or ${file:...}.",
       .secret = true},
      {.name = "auth_key",
       .doc = "Authentication key, 32 hex digits; when set, GCM tags are verified.",
       .secret = true},
      {.name = "timezone",
       .doc = "IANA time zone for meter times without deviation (default: the host's).",
       .default_value = ""},
      {.name = "fields",
       .type = option_type::string_list,
       .doc = "Ordered field list for value-only payloads: identifiers, OBIS codes with optional "
              "@scaler, meter_id, timestamp, skip."},
      {.name = "meter_id",
       .doc = "Meter tag until a message carries the meter's id.",
       .default_value = ""},
      {.name = "system_time",
       .type = option_type::boolean,
       .doc = "Stamp records with the receive time instead of the meter's clock.",
       .default_value = "false"},
      {.name = "transport",
       .doc = "Framing of the byte stream.",
       .default_value = "auto",
       .allowed = {"auto", "hdlc", "mbus", "raw"}},
  };
  d.check = [](const YAML::Node& node, const options& o, const std::string& file,
               diagnostics& diags) {
    std::vector<std::pair<std::string, std::string>> errors;
    auto opts = decoder_options(o, &errors);
    for (const auto& [name, message] : errors)
      diags.error("invalid " + name + ": " + message, location_of(node[name], file),
                  "a key is 32 hex digits (16 bytes), e.g. from ${METER_KEY}");
    if (auto tz = o.str("timezone"); !tz.empty()) {
      try {
        (void)date::locate_zone(tz);
      } catch (const std::exception&) {
        diags.error("unknown time zone '" + tz + "'", location_of(node["timezone"], file),
                    "use an IANA name such as Europe/Zurich");
      }
    }
    if (errors.empty())
      if (auto err = dlms::validate(opts); !err.empty())
        diags.error(err, location_of(node, file));
  };
  d.make = [](const node_spec& s) { return std::make_unique<dlms_instance>(s); };
  return d;
}

} // namespace
} // namespace wattline::transforms

WATTLINE_REGISTER_COMPONENT(wattline::transforms::describe_dlms)
