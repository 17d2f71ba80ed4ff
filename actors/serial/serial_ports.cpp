#include "actors/serial/serial_ports.hpp"

#include <algorithm>
#include <cctype>
#include <fcntl.h>
#include <fstream>
#include <linux/serial.h>
#include <map>
#include <sys/ioctl.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace wattline::serial {

namespace {

const char* const tty_prefixes[] = {"ttyUSB", "ttyACM", "ttyAMA", "ttyS"};

// "ttyUSB12" → ("ttyUSB", 12); names without a numeric suffix get -1.
std::pair<std::string, long> split_name(const std::string& name) {
  size_t i = name.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(name[i - 1])))
    --i;
  if (i == name.size())
    return {name, -1};
  return {name.substr(0, i), std::stol(name.substr(i, 9))};
}

bool natural_less(const std::string& a, const std::string& b) {
  auto [pa, na] = split_name(a);
  auto [pb, nb] = split_name(b);
  if (pa != pb)
    return pa < pb;
  return na < nb;
}

std::string read_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  if (in)
    std::getline(in, line);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
    line.pop_back();
  return line;
}

std::string link_basename(const fs::path& p) {
  std::error_code ec;
  auto target = fs::read_symlink(p, ec);
  if (ec)
    return {};
  return target.filename().string();
}

// Resolves a /dev symlink inside `root`: absolute targets are taken relative to root.
fs::path resolve_in_root(const fs::path& root, const fs::path& link) {
  fs::path current = link;
  for (int hops = 0; hops < 16; ++hops) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(current, ec)))
      return current.lexically_normal();
    auto target = fs::read_symlink(current, ec);
    if (ec)
      return {};
    current = target.is_absolute() ? root / target.relative_path()
                                   : (current.parent_path() / target).lexically_normal();
  }
  return {};
}

// The path as the system sees it: "/" + path relative to root.
std::string logical(const fs::path& root, const fs::path& p) {
  auto rel = p.lexically_normal().lexically_relative(root.lexically_normal());
  if (rel.empty() || rel.native().starts_with(".."))
    return p.string();
  return "/" + rel.generic_string();
}

bool is_candidate_name(const std::string& name) {
  for (const char* prefix : tty_prefixes) {
    std::string_view pre(prefix);
    if (name.size() > pre.size() && name.compare(0, pre.size(), pre) == 0 &&
        std::all_of(name.begin() + static_cast<std::ptrdiff_t>(pre.size()), name.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return true;
  }
  return false;
}

void fill_sysfs(const fs::path& root, const std::string& name, serial_port_info& info) {
  std::error_code ec;
  fs::path class_dir = root / "sys/class/tty" / name;
  fs::path device_link = class_dir / "device";
  if (!fs::exists(device_link, ec))
    return;
  fs::path device_dir = fs::canonical(device_link, ec);
  if (ec)
    return;
  // Linux 6.5+ puts serial-base "port" and "ctrl" devices between the tty and the controller.
  for (int level = 0; level < 3 && link_basename(device_dir / "subsystem") == "serial-base";
       ++level)
    device_dir = device_dir.parent_path();
  info.driver = link_basename(device_dir / "driver");
  info.subsystem = link_basename(device_dir / "subsystem");
  // Walk up to the USB device (the directory with idVendor), at most a few levels.
  fs::path sys_root = fs::weakly_canonical(root / "sys", ec);
  fs::path dir = device_dir;
  for (int level = 0; level < 6 && !dir.empty() && dir != sys_root && dir != dir.parent_path();
       ++level, dir = dir.parent_path()) {
    if (fs::exists(dir / "idVendor", ec)) {
      info.vendor_id = read_line(dir / "idVendor");
      info.product_id = read_line(dir / "idProduct");
      info.manufacturer = read_line(dir / "manufacturer");
      info.product = read_line(dir / "product");
      info.serial_number = read_line(dir / "serial");
      break;
    }
  }
}

// ttyS0..31 exist on every PC; only some have a UART behind them.
bool has_real_uart(const fs::path& root, const std::string& name, const serial_port_info& info) {
  std::error_code ec;
  fs::path class_dir = root / "sys/class/tty" / name;
  if (!fs::exists(class_dir / "device", ec))
    return false;
  std::string type = read_line(class_dir / "type");
  if (!type.empty())
    return type != "0"; // PORT_UNKNOWN
  if (!info.subsystem.empty() && info.subsystem != "platform")
    return true;
  if (root.lexically_normal() == fs::path("/")) {
    int fd = ::open(("/dev/" + name).c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
      serial_struct ss{};
      bool real = ::ioctl(fd, TIOCGSERIAL, &ss) == 0 && ss.type != PORT_UNKNOWN;
      ::close(fd);
      return real;
    }
  }
  return false;
}

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

} // namespace

std::vector<serial_port_info> list_serial_ports(const fs::path& root_in) {
  fs::path root = root_in.empty() ? fs::path("/") : root_in;
  std::map<std::string, serial_port_info, bool (*)(const std::string&, const std::string&)> found(
      [](const std::string& a, const std::string& b) {
        return natural_less(fs::path(a).filename().string(), fs::path(b).filename().string()) ||
               (!natural_less(fs::path(b).filename().string(), fs::path(a).filename().string()) &&
                a < b);
      });
  std::map<std::string, fs::path> real_paths; // logical device → path in root

  std::error_code ec;
  fs::path by_id = root / "dev/serial/by-id";
  if (fs::is_directory(by_id, ec)) {
    std::vector<fs::path> links;
    for (fs::directory_iterator it(by_id, ec), end; !ec && it != end; it.increment(ec))
      links.push_back(it->path());
    std::sort(links.begin(), links.end());
    for (const auto& link : links) {
      fs::path target = resolve_in_root(root, link);
      std::error_code e2;
      if (target.empty() || !fs::exists(target, e2))
        continue; // dangling: the converter was just unplugged
      std::string device = logical(root, target);
      auto& info = found[device];
      info.device = device;
      info.by_id.push_back(logical(root, link));
      real_paths[device] = target;
    }
  }

  fs::path dev = root / "dev";
  if (fs::is_directory(dev, ec)) {
    for (fs::directory_iterator it(dev, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!is_candidate_name(name))
        continue;
      std::string device = logical(root, it->path());
      if (found.count(device) == 0) {
        serial_port_info info;
        info.device = device;
        fill_sysfs(root, name, info);
        if (name.starts_with("ttyS") && !has_real_uart(root, name, info))
          continue;
        found[device] = std::move(info);
        real_paths[device] = it->path();
      }
    }
  }

  std::vector<serial_port_info> out;
  for (auto& [device, info] : found) {
    if (info.driver.empty() && info.subsystem.empty())
      fill_sysfs(root, fs::path(device).filename().string(), info);
    info.accessible = ::access(real_paths[device].c_str(), R_OK | W_OK) == 0;
    out.push_back(std::move(info));
  }
  return out;
}

std::string format_serial_ports(const std::vector<serial_port_info>& ports) {
  if (ports.empty())
    return "No serial ports found.\n"
           "  - Is the USB converter (M-Bus slave or P1 cable) plugged in? `dmesg | tail` should "
           "show a new ttyUSB or ttyACM device when it is connected.\n"
           "  - Is the user in the 'dialout' group? (sudo usermod -aG dialout $USER, then log in "
           "again)\n"
           "  - In a container, pass the device through (e.g. docker run --device "
           "/dev/ttyUSB0).\n";

  struct row {
    std::string device, driver, usb, description;
  };
  std::vector<row> rows;
  bool any_usb = false;
  for (const auto& p : ports) {
    row r;
    r.device = p.device;
    r.driver = p.driver.empty() ? "-" : p.driver;
    r.usb = p.vendor_id.empty() ? "-" : p.vendor_id + ":" + p.product_id;
    any_usb = any_usb || !p.vendor_id.empty() || !p.by_id.empty();
    std::string d = p.manufacturer;
    if (!p.product.empty())
      d += (d.empty() ? "" : " ") + p.product;
    if (!p.serial_number.empty())
      d += (d.empty() ? "serial " : ", serial ") + p.serial_number;
    if (d.empty() &&
        (p.driver == "serial8250" || p.subsystem == "pnp" || p.subsystem == "platform"))
      d = "on-board UART";
    if (!p.accessible)
      d += (d.empty() ? "" : "; ") + std::string("no read/write permission (dialout group?)");
    r.description = d.empty() ? "-" : d;
    rows.push_back(std::move(r));
  }
  size_t w_device = 6, w_driver = 6, w_usb = 6;
  for (const auto& r : rows) {
    w_device = std::max(w_device, r.device.size());
    w_driver = std::max(w_driver, r.driver.size());
    w_usb = std::max(w_usb, r.usb.size());
  }
  std::string out = ports.size() == 1 ? "1 serial port found:\n\n"
                                      : std::to_string(ports.size()) + " serial ports found:\n\n";
  out += "  " + pad("DEVICE", w_device) + "  " + pad("DRIVER", w_driver) + "  " +
         pad("USB ID", w_usb) + "  DESCRIPTION\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    out += "  " + pad(r.device, w_device) + "  " + pad(r.driver, w_driver) + "  " +
           pad(r.usb, w_usb) + "  " + r.description + "\n";
    for (const auto& link : ports[i].by_id)
      out += "  " + std::string(w_device, ' ') + "  stable path: " + link + "\n";
  }
  if (any_usb)
    out += "\nUse the stable /dev/serial/by-id/... path in pipelines: /dev/ttyUSB numbers change "
           "when converters are re-plugged.\n";
  return out;
}

} // namespace wattline::serial
