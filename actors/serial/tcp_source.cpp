// `tcp` source: reads raw bytes from a network serial converter (ser2net style), reconnecting
// with backoff, exactly like the `serial` source.

#include "actors/serial/byte_source_instance.hpp"
#include "actors/serial/devices.hpp"
#include "engine/component.hpp"
#include "engine/pipeline_spec.hpp"
#include "engine/yaml_location.hpp"

namespace wattline::sources {
namespace {

serial::tcp_options tcp_options_from(const options& o) {
  serial::tcp_options t;
  t.host = o.str("host", "127.0.0.1");
  t.port = static_cast<uint16_t>(o.integer("port"));
  t.connect_timeout = std::chrono::milliseconds(o.integer("connect_timeout_ms", 5000));
  return t;
}

component_descriptor describe_tcp() {
  component_descriptor d;
  d.type = "tcp";
  d.role = component_role::source;
  d.summary = "Reads raw bytes from a network serial converter (ser2net style), reconnecting "
              "by itself.";
  d.output = data_kind::bytes;
  d.options = {
      {.name = "host", .doc = "Converter host name or address.", .required = true},
      {.name = "port",
       .type = option_type::integer,
       .doc = "TCP port.",
       .required = true,
       .min = 1,
       .max = 65535},
      {.name = "connect_timeout_ms",
       .type = option_type::integer,
       .doc = "Connect timeout.",
       .default_value = "5000",
       .min = 100,
       .max = 600000},
  };
  for (auto& o : serial::byte_source_options())
    d.options.push_back(std::move(o));
  d.check = [](const YAML::Node& node, const options& o, const std::string& file,
               diagnostics& diags) {
    for (const auto& e : serial::validate(tcp_options_from(o)))
      diags.error(e, location_of(node, file));
  };
  d.make = [](const node_spec& s) -> std::unique_ptr<component_instance> {
    return serial::make_byte_source(std::make_unique<serial::tcp_device>(tcp_options_from(s.opts)),
                                    s.opts);
  };
  return d;
}

} // namespace
} // namespace wattline::sources

WATTLINE_REGISTER_COMPONENT(wattline::sources::describe_tcp)
