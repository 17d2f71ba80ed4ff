#include "actors/serial/serial_ports.hpp"

#include "tests/support/support.hpp"

#include <fstream>
#include <gtest/gtest.h>

namespace fs = std::filesystem;
using namespace wattline::serial;
using wattline::test::temp_dir;

namespace {

void touch(const fs::path& p, const std::string& content = "") {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << content;
}

void link(const fs::path& at, const fs::path& target) {
  fs::create_directories(at.parent_path());
  fs::create_directory_symlink(target, at);
}

// A fake root shaped like a Linux /dev + /sys: an FTDI converter on ttyUSB0 (with a by-id link),
// a CP2102 on ttyUSB2, a CDC-ACM P1 cable on ttyACM0, a Raspberry Pi PL011 UART, one real and
// two phantom 8250 ports, and a dangling by-id link.
void build_fake_tree(const fs::path& root) {
  for (const char* node : {"ttyUSB0", "ttyUSB2", "ttyUSB10", "ttyACM0", "ttyAMA0", "ttyS0", "ttyS1",
                           "ttyS2", "tty0", "ttyprintk", "console"})
    touch(root / "dev" / node);
  fs::create_directories(root / "dev/serial/by-id");
  fs::create_symlink("../../ttyUSB0",
                     root / "dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0");
  fs::create_symlink("/dev/ttyACM0", root / "dev/serial/by-id/usb-Netbeheer_P1_Cable-if00");
  fs::create_symlink("../../ttyUSB7", root / "dev/serial/by-id/usb-Gone_Converter-if00-port0");

  fs::path sys = root / "sys";
  fs::create_directories(sys / "bus/usb-serial/drivers/ftdi_sio");
  fs::create_directories(sys / "bus/usb-serial/drivers/cp210x");
  fs::create_directories(sys / "bus/usb/drivers/cdc_acm");
  fs::create_directories(sys / "bus/platform/drivers/serial8250");
  fs::create_directories(sys / "bus/pnp/drivers/serial");
  fs::create_directories(sys / "bus/amba/drivers/uart-pl011");

  // USB device 1-1: FTDI FT232R, interface 1-1:1.0, usb-serial port ttyUSB0.
  fs::path usb1 = sys / "devices/pci0000:00/0000:00:14.0/usb1/1-1";
  touch(usb1 / "idVendor", "0403\n");
  touch(usb1 / "idProduct", "6001\n");
  touch(usb1 / "manufacturer", "FTDI\n");
  touch(usb1 / "product", "FT232R USB UART\n");
  touch(usb1 / "serial", "A50285BI\n");
  fs::path port0 = usb1 / "1-1:1.0/ttyUSB0";
  fs::create_directories(port0 / "tty/ttyUSB0");
  link(port0 / "driver", "../../../../../../bus/usb-serial/drivers/ftdi_sio");
  link(port0 / "subsystem", "../../../../../../bus/usb-serial");
  link(port0 / "tty/ttyUSB0/device", "../../../ttyUSB0");

  // USB device 1-2: Silicon Labs CP2102 on ttyUSB2, no serial string.
  fs::path usb2 = sys / "devices/pci0000:00/0000:00:14.0/usb1/1-2";
  touch(usb2 / "idVendor", "10c4\n");
  touch(usb2 / "idProduct", "ea60\n");
  touch(usb2 / "product", "CP2102 USB to UART Bridge Controller\n");
  fs::path port2 = usb2 / "1-2:1.0/ttyUSB2";
  fs::create_directories(port2 / "tty/ttyUSB2");
  link(port2 / "driver", "../../../../../../bus/usb-serial/drivers/cp210x");
  link(port2 / "tty/ttyUSB2/device", "../../../ttyUSB2");

  // USB device 1-3: CDC-ACM: the tty's device is the interface itself.
  fs::path usb3 = sys / "devices/pci0000:00/0000:00:14.0/usb1/1-3";
  touch(usb3 / "idVendor", "2341\n");
  touch(usb3 / "idProduct", "0043\n");
  touch(usb3 / "manufacturer", "Arduino\n");
  touch(usb3 / "product", "P1 reader\n");
  fs::path acm = usb3 / "1-3:1.0";
  fs::create_directories(acm / "tty/ttyACM0");
  link(acm / "driver", "../../../../../../bus/usb/drivers/cdc_acm");
  link(acm / "tty/ttyACM0/device", "../../../1-3:1.0");

  // Raspberry Pi PL011.
  fs::path amba = sys / "devices/platform/soc/fe201000.serial";
  fs::create_directories(amba / "tty/ttyAMA0");
  link(amba / "driver", "../../../../bus/amba/drivers/uart-pl011");
  link(amba / "subsystem", "../../../../bus/amba");
  link(amba / "tty/ttyAMA0/device", "../../../fe201000.serial");

  // 8250: ttyS0 is a real UART (type 4 = 16550A) on the PNP bus, behind the serial-base
  // port/ctrl devices of Linux 6.5+; ttyS1 is a phantom (type 0), ttyS2 has no sysfs entry.
  fs::path pnp = sys / "devices/pnp0/00:04";
  fs::path port_dev = pnp / "00:04:0/00:04:0.0";
  fs::create_directories(port_dev / "tty/ttyS0");
  fs::create_directories(sys / "bus/serial-base/drivers/port");
  fs::create_directories(sys / "bus/serial-base/drivers/ctrl");
  link(port_dev / "driver", "../../../../../bus/serial-base/drivers/port");
  link(port_dev / "subsystem", "../../../../../bus/serial-base");
  link(pnp / "00:04:0/driver", "../../../../bus/serial-base/drivers/ctrl");
  link(pnp / "00:04:0/subsystem", "../../../../bus/serial-base");
  link(pnp / "driver", "../../../bus/pnp/drivers/serial");
  link(pnp / "subsystem", "../../../bus/pnp");
  link(port_dev / "tty/ttyS0/device", "../../../00:04:0.0");
  touch(port_dev / "tty/ttyS0/type", "4\n");
  fs::path s8250 = sys / "devices/platform/serial8250";
  fs::create_directories(s8250 / "tty/ttyS1");
  link(s8250 / "tty/ttyS1/device", "../../../serial8250");
  touch(s8250 / "tty/ttyS1/type", "0\n");
  link(s8250 / "driver", "../../../bus/platform/drivers/serial8250");
  link(s8250 / "subsystem", "../../../bus/platform");

  // /sys/class/tty entries are links into /sys/devices.
  fs::create_directories(sys / "class/tty");
  fs::create_directory_symlink(
      "../../devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/ttyUSB0/tty/ttyUSB0",
      sys / "class/tty/ttyUSB0");
  fs::create_directory_symlink(
      "../../devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/ttyUSB2/tty/ttyUSB2",
      sys / "class/tty/ttyUSB2");
  fs::create_directory_symlink("../../devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0/tty/ttyACM0",
                               sys / "class/tty/ttyACM0");
  fs::create_directory_symlink("../../devices/platform/soc/fe201000.serial/tty/ttyAMA0",
                               sys / "class/tty/ttyAMA0");
  fs::create_directory_symlink("../../devices/pnp0/00:04/00:04:0/00:04:0.0/tty/ttyS0",
                               sys / "class/tty/ttyS0");
  fs::create_directory_symlink("../../devices/platform/serial8250/tty/ttyS1",
                               sys / "class/tty/ttyS1");
}

const serial_port_info* find(const std::vector<serial_port_info>& ports, const std::string& dev) {
  for (const auto& p : ports)
    if (p.device == dev)
      return &p;
  return nullptr;
}

} // namespace

TEST(SerialPortsListing, FindsByIdLinksConvertersAndRealUartsInAFakeTree) {
  temp_dir dir;
  build_fake_tree(dir.path());
  auto ports = list_serial_ports(dir.path());

  std::vector<std::string> devices;
  for (const auto& p : ports)
    devices.push_back(p.device);
  EXPECT_EQ(devices, (std::vector<std::string>{"/dev/ttyACM0", "/dev/ttyAMA0", "/dev/ttyS0",
                                               "/dev/ttyUSB0", "/dev/ttyUSB2", "/dev/ttyUSB10"}));

  const auto* ftdi = find(ports, "/dev/ttyUSB0");
  ASSERT_NE(ftdi, nullptr);
  EXPECT_EQ(ftdi->by_id, (std::vector<std::string>{
                             "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"}));
  EXPECT_EQ(ftdi->driver, "ftdi_sio");
  EXPECT_EQ(ftdi->subsystem, "usb-serial");
  EXPECT_EQ(ftdi->vendor_id, "0403");
  EXPECT_EQ(ftdi->product_id, "6001");
  EXPECT_EQ(ftdi->manufacturer, "FTDI");
  EXPECT_EQ(ftdi->product, "FT232R USB UART");
  EXPECT_EQ(ftdi->serial_number, "A50285BI");

  const auto* cp = find(ports, "/dev/ttyUSB2");
  ASSERT_NE(cp, nullptr);
  EXPECT_TRUE(cp->by_id.empty());
  EXPECT_EQ(cp->driver, "cp210x");
  EXPECT_EQ(cp->vendor_id + ":" + cp->product_id, "10c4:ea60");

  const auto* acm = find(ports, "/dev/ttyACM0");
  ASSERT_NE(acm, nullptr);
  EXPECT_EQ(acm->by_id,
            (std::vector<std::string>{"/dev/serial/by-id/usb-Netbeheer_P1_Cable-if00"}));
  EXPECT_EQ(acm->driver, "cdc_acm");
  EXPECT_EQ(acm->manufacturer, "Arduino");

  const auto* amba = find(ports, "/dev/ttyAMA0");
  ASSERT_NE(amba, nullptr);
  EXPECT_EQ(amba->driver, "uart-pl011");
  EXPECT_TRUE(amba->vendor_id.empty());

  const auto* uart = find(ports, "/dev/ttyS0");
  ASSERT_NE(uart, nullptr);
  EXPECT_EQ(uart->driver, "serial");
  EXPECT_EQ(uart->subsystem, "pnp");
  EXPECT_EQ(find(ports, "/dev/ttyUSB10")->driver, ""); // no sysfs entry: listed without details
}

TEST(SerialPortsListing, TableShowsDriverUsbIdsAndStablePaths) {
  temp_dir dir;
  build_fake_tree(dir.path());
  std::string table = format_serial_ports(list_serial_ports(dir.path()));
  EXPECT_NE(table.find("6 serial ports found"), std::string::npos) << table;
  EXPECT_NE(table.find("DEVICE"), std::string::npos);
  EXPECT_NE(table.find("/dev/ttyUSB0"), std::string::npos);
  EXPECT_NE(table.find("ftdi_sio"), std::string::npos);
  EXPECT_NE(table.find("0403:6001"), std::string::npos);
  EXPECT_NE(table.find("FTDI FT232R USB UART, serial A50285BI"), std::string::npos) << table;
  EXPECT_NE(
      table.find("stable path: /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"),
      std::string::npos);
  EXPECT_NE(table.find("on-board UART"), std::string::npos);
  EXPECT_EQ(table.find(dir.path().string()), std::string::npos) << "root leaked into the table";
  EXPECT_EQ(table.find("ttyUSB7"), std::string::npos) << "dangling link listed";
  // Every device line is aligned: the DRIVER column starts at the same offset.
  size_t header = table.find("DEVICE");
  size_t driver_col = table.find("DRIVER") - table.rfind('\n', header) - 1;
  size_t line = table.find("  /dev/ttyUSB0");
  EXPECT_EQ(table.substr(line + driver_col, 8), "ftdi_sio") << table;
}

TEST(SerialPortsListing, EmptySystemGivesAFriendlyHint) {
  temp_dir dir;
  fs::create_directories(dir / "dev");
  auto ports = list_serial_ports(dir.path());
  EXPECT_TRUE(ports.empty());
  std::string text = format_serial_ports(ports);
  EXPECT_NE(text.find("No serial ports found"), std::string::npos);
  EXPECT_NE(text.find("plugged in"), std::string::npos);
  EXPECT_NE(text.find("dialout"), std::string::npos);
  // A root without dev/ at all is no error either.
  EXPECT_TRUE(list_serial_ports(dir / "missing").empty());
}

TEST(SerialPortsListing, RealSystemListingDoesNotCrash) {
  std::vector<serial_port_info> ports;
  EXPECT_NO_THROW(ports = list_serial_ports());
  std::string text = format_serial_ports(ports);
  EXPECT_FALSE(text.empty());
  for (const auto& p : ports)
    EXPECT_EQ(p.device.rfind("/dev/", 0), 0u) << p.device;
}
