#include "actors/serial/devices.hpp"

namespace wattline::serial {

tcp_device::tcp_device(tcp_options options) : options_(std::move(options)) {
  bool v6 = options_.host.find(':') != std::string::npos;
  origin_ = "tcp://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" +
            std::to_string(options_.port);
}

std::unique_ptr<reader_loop> make_serial_reader(serial_device_options device,
                                                reader_options options,
                                                reader_callbacks callbacks) {
  return std::make_unique<reader_loop>(std::make_unique<serial_device>(std::move(device)), options,
                                       std::move(callbacks));
}

std::unique_ptr<reader_loop> make_tcp_reader(tcp_options device, reader_options options,
                                             reader_callbacks callbacks) {
  return std::make_unique<reader_loop>(std::make_unique<tcp_device>(std::move(device)), options,
                                       std::move(callbacks));
}

} // namespace wattline::serial
