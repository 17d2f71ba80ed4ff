// `serial` source: reads a smart meter's push messages from a serial device (M-Bus slave or P1
// USB converter) with raw termios, bounded reads, and reconnection with backoff when the
// converter is unplugged. Also provides `wattline serial-ports`.

#include "actors/serial/byte_source_instance.hpp"
#include "actors/serial/devices.hpp"
#include "actors/serial/line_settings.hpp"
#include "actors/serial/serial_ports.hpp"
#include "engine/component.hpp"
#include "engine/pipeline_spec.hpp"
#include "engine/yaml_location.hpp"

namespace wattline {

std::string serial_ports_report() {
  return serial::format_serial_ports(serial::list_serial_ports());
}

namespace sources {
namespace {

serial::line_overrides overrides_from(const options& o) {
  serial::line_overrides ov;
  if (o.has("baud_rate"))
    ov.baud_rate = o.integer("baud_rate");
  if (o.has("data_bits"))
    ov.data_bits = o.integer("data_bits");
  if (o.has("parity"))
    ov.parity = o.str("parity");
  if (o.has("stop_bits"))
    ov.stop_bits = o.integer("stop_bits");
  return ov;
}

serial::reader_options reader_options_from() {
  serial::reader_options r;
  // A replugged converter must be read again within about a second, however long it was out: a
  // retry of a missing device node is one failed open(), so cap the backoff at 1 s (not 5 s).
  r.backoff.max = std::chrono::milliseconds(1000);
  return r;
}

component_descriptor describe_serial() {
  component_descriptor d;
  d.type = "serial";
  d.role = component_role::source;
  d.summary = "Reads raw bytes from a smart meter's serial interface (M-Bus or P1 converter), "
              "reconnecting by itself when the device goes away.";
  d.output = data_kind::bytes;
  d.options = {
      {.name = "device",
       .doc = "Serial device; prefer the stable /dev/serial/by-id/... name (see `wattline "
              "serial-ports`).",
       .required = true},
      {.name = "profile",
       .doc = "Meter profile giving the default line settings.",
       .default_value = "generic",
       .allowed = serial::profile_names()},
      {.name = "baud_rate",
       .type = option_type::integer,
       .doc = "Overrides the profile's baud rate.",
       .min = serial::min_baud_rate,
       .max = serial::max_baud_rate},
      {.name = "data_bits",
       .type = option_type::integer,
       .doc = "Overrides the data bits.",
       .min = 5,
       .max = 8},
      {.name = "parity", .doc = "Overrides the parity.", .allowed = {"none", "even", "odd"}},
      {.name = "stop_bits",
       .type = option_type::integer,
       .doc = "Overrides the stop bits.",
       .min = 1,
       .max = 2},
  };
  for (auto& o : serial::byte_source_options())
    d.options.push_back(std::move(o));
  d.check = [](const YAML::Node& node, const options& o, const std::string& file,
               diagnostics& diags) {
    auto r = serial::resolve(o.str("profile", "generic"), overrides_from(o));
    for (const auto& e : r.errors) {
      auto at = node[e.option] ? node[e.option] : node;
      diags.error(e.message, location_of(at, file),
                  e.allowed.empty() ? std::string{} : "allowed: " + join(e.allowed));
    }
  };
  d.make = [](const node_spec& s) -> std::unique_ptr<component_instance> {
    serial::serial_device_options dev;
    dev.path = s.opts.str("device");
    dev.settings =
        serial::resolve(s.opts.str("profile", "generic"), overrides_from(s.opts)).settings;
    return serial::make_byte_source(std::make_unique<serial::serial_device>(dev), s.opts,
                                    reader_options_from());
  };
  return d;
}

} // namespace
} // namespace sources
} // namespace wattline

WATTLINE_REGISTER_COMPONENT(wattline::sources::describe_serial)
