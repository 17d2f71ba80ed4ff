#pragma once

// Lists the serial devices present (`wattline serial-ports`): /dev/serial/by-id links, USB
// serial converters, CDC-ACM devices, on-board UARTs, with driver and USB details from sysfs.

#include <filesystem>
#include <string>
#include <vector>

namespace wattline::serial {

/// One serial device found by list_serial_ports.
struct serial_port_info {
  /// Device node as seen by the system, e.g. "/dev/ttyUSB0" (never prefixed with the root).
  std::string device;
  /// Stable names pointing to it, e.g. "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A1-if00-port0".
  std::vector<std::string> by_id;
  /// Kernel driver, e.g. "ftdi_sio", "cp210x", "cdc_acm", "serial8250", "uart-pl011"; empty when
  /// unknown.
  std::string driver;
  /// Bus of the parent device, e.g. "usb-serial", "usb", "platform", "pnp", "amba"; may be empty.
  std::string subsystem;
  /// USB vendor id as 4 hex digits ("0403"); empty when not USB.
  std::string vendor_id;
  /// USB product id as 4 hex digits ("6001"); empty when not USB.
  std::string product_id;
  /// USB manufacturer string, e.g. "FTDI".
  std::string manufacturer;
  /// USB product string, e.g. "FT232R USB UART".
  std::string product;
  /// USB serial number string.
  std::string serial_number;
  /// True when the current user may open it for reading and writing.
  bool accessible = true;
};

/// Lists serial devices below `root` (default "/": the real system; tests pass a temporary tree
/// with dev/ and sys/). Includes every /dev/serial/by-id link target, and the existing
/// /dev/ttyUSB*, /dev/ttyACM*, /dev/ttyAMA* and /dev/ttyS*; ttyS* only with a real UART behind
/// it (sysfs `type` != 0, a non-platform parent, or TIOCGSERIAL on the real system). Sorted by
/// device name (ttyUSB2 before ttyUSB10). Never throws for unreadable entries.
[[nodiscard]] std::vector<serial_port_info>
list_serial_ports(const std::filesystem::path& root = "/");

/// The human-readable table printed by `wattline serial-ports`, ending with a newline. When
/// `ports` is empty: a message with hints (converter plugged in? user in the dialout group?).
[[nodiscard]] std::string format_serial_ports(const std::vector<serial_port_info>& ports);

} // namespace wattline::serial
