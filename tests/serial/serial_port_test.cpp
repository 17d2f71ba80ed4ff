#include "actors/serial/serial_port.hpp"

#include "tests/serial/pty_pair.hpp"
#include "tests/support/support.hpp"

#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <termios.h>

using namespace std::chrono_literals;
using namespace wattline::serial;
using wattline::test::pty_pair;
using wattline::test::temp_dir;

namespace {

std::string by_id(const temp_dir& dir) {
  return (dir / "serial/by-id/usb-Fake_Meter_Converter_0001-if00-port0").string();
}

// Reads from `port` until `n` bytes arrived or the deadline passed.
std::vector<uint8_t> read_n(serial_port& port, size_t n, std::chrono::milliseconds within = 5s) {
  std::vector<uint8_t> out;
  uint8_t buf[256];
  auto deadline = std::chrono::steady_clock::now() + within;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    auto r = port.read_some(buf, 100ms);
    if (r.status == read_status::data)
      out.insert(out.end(), buf, buf + r.size);
    else if (r.status != read_status::timeout)
      break;
  }
  return out;
}

} // namespace

TEST(SerialPort, OpensByIdSymlinkAndAppliesRawLineSettings) {
  temp_dir dir;
  pty_pair pty(by_id(dir));
  serial_port port;
  auto err = port.open(pty.path(), line_settings{9600, 8, parity::none, 2});
  ASSERT_FALSE(err) << err.message;
  EXPECT_TRUE(port.is_open());
  EXPECT_EQ(port.device(), pty.slave_path()); // the by-id link resolved to the real node

  termios t = pty.slave_termios();
  EXPECT_EQ(cfgetispeed(&t), B9600);
  EXPECT_EQ(cfgetospeed(&t), B9600);
  EXPECT_EQ(t.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
  EXPECT_NE(t.c_cflag & CSTOPB, 0u);
  EXPECT_NE(t.c_cflag & CLOCAL, 0u);
  EXPECT_NE(t.c_cflag & CREAD, 0u);
  EXPECT_EQ(t.c_cflag & CRTSCTS, 0u);
  EXPECT_EQ(t.c_iflag & (IXON | IXOFF | IXANY | ICRNL | INLCR | IGNCR | ISTRIP), 0u);
  EXPECT_EQ(t.c_oflag & OPOST, 0u);
  EXPECT_EQ(t.c_lflag & (ICANON | ECHO | ECHONL | ISIG | IEXTEN), 0u);
  EXPECT_EQ(t.c_cc[VMIN], 0);
  EXPECT_EQ(t.c_cc[VTIME], 0);
  EXPECT_EQ(read_baud_rate(pty.slave_fd()), 9600u);

  // Reopen with a profile's settings: 1 stop bit, other speed.
  err = port.open(pty.path(), find_profile("iskraam550")->settings);
  ASSERT_FALSE(err) << err.message;
  t = pty.slave_termios();
  EXPECT_EQ(cfgetispeed(&t), B115200);
  EXPECT_EQ(t.c_cflag & CSTOPB, 0u);
}

TEST(SerialPort, ParityProfilesOpenAndReopenOnAPseudoTerminal) {
  // The kernel forces CS8 without parity on pseudo-terminals (pty_set_termios), so data bits and
  // parity cannot be read back here; the port skips that check on ptys only. What a pty can show:
  // 8E1 and 7O2 open (and reopen: glibc then reports EINVAL for "nothing changed"), and speed and
  // stop bits stick.
  temp_dir dir;
  pty_pair pty(by_id(dir));
  serial_port port;
  for (int round = 0; round < 2; ++round) {
    auto err = port.open(pty.path(), find_profile("lge450")->settings);
    ASSERT_FALSE(err) << err.message;
    termios t = pty.slave_termios();
    EXPECT_EQ(cfgetospeed(&t), B2400);
    EXPECT_EQ(t.c_cflag & CSTOPB, 0u);
  }
  auto err = port.open(pty.path(), line_settings{19200, 7, parity::odd, 2});
  ASSERT_FALSE(err) << err.message;
  termios t = pty.slave_termios();
  EXPECT_EQ(cfgetospeed(&t), B19200);
  EXPECT_NE(t.c_cflag & CSTOPB, 0u);
  EXPECT_EQ(port.settings(), (line_settings{19200, 7, parity::odd, 2}));
}

TEST(SerialPort, NonStandardBaudRateIsSetThroughTermios2) {
  pty_pair pty;
  serial_port port;
  auto err = port.open(pty.path(), line_settings{250000, 8, parity::none, 1});
  ASSERT_FALSE(err) << err.message;
  EXPECT_EQ(read_baud_rate(pty.slave_fd()), 250000u);
  EXPECT_EQ(read_baud_rate(port.native_handle()), 250000u);
}

TEST(SerialPort, InvalidSettingsAreRejectedBeforeOpening) {
  pty_pair pty;
  serial_port port;
  auto err = port.open(pty.path(), line_settings{0, 8, parity::none, 1});
  EXPECT_EQ(err.kind, error_kind::unsupported_setting);
  EXPECT_NE(err.message.find("unsupported baud rate 0"), std::string::npos) << err.message;
  EXPECT_FALSE(port.is_open());
}

TEST(SerialPort, MissingDeviceIsNotFoundWithAHint) {
  temp_dir dir;
  serial_port port;
  auto err = port.open(by_id(dir), line_settings{});
  EXPECT_EQ(err.kind, error_kind::not_found);
  EXPECT_EQ(err.code, ENOENT);
  EXPECT_NE(err.message.find(by_id(dir)), std::string::npos);
  EXPECT_NE(err.message.find("ENOENT"), std::string::npos);
  EXPECT_NE(err.message.find("plugged in"), std::string::npos);
  EXPECT_FALSE(port.is_open());
}

TEST(SerialPort, RegularFileIsNotASerialDevice) {
  temp_dir dir;
  std::ofstream(dir / "capture.bin") << "x";
  serial_port port;
  auto err = port.open((dir / "capture.bin").string(), line_settings{});
  EXPECT_EQ(err.kind, error_kind::not_a_tty) << err.message;
  EXPECT_FALSE(port.is_open());
}

TEST(SerialPort, SecondReaderOfTheSameDeviceIsBusy) {
  temp_dir dir;
  pty_pair pty(by_id(dir));
  serial_port first, second;
  ASSERT_FALSE(first.open(pty.path(), line_settings{}));
  // Through the real node instead of the link: the lock is on the device, not the name.
  auto err = second.open(pty.slave_path(), line_settings{});
  EXPECT_EQ(err.kind, error_kind::busy) << err.message;
  EXPECT_FALSE(second.is_open());
  first.close();
  EXPECT_FALSE(second.open(pty.path(), line_settings{}));
}

TEST(SerialPort, BytesArriveAndAnIdleLineTimesOut) {
  pty_pair pty;
  serial_port port;
  ASSERT_FALSE(port.open(pty.path(), line_settings{}));
  uint8_t buf[64];
  auto t0 = std::chrono::steady_clock::now();
  auto r = port.read_some(buf, 50ms);
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, read_status::timeout);
  EXPECT_GE(waited, 45ms);
  EXPECT_LT(waited, 1s);
  ASSERT_TRUE(pty.write("\x7e\xa0\x84\xce\xff"));
  auto got = read_n(port, 5);
  EXPECT_EQ(got, (std::vector<uint8_t>{0x7e, 0xa0, 0x84, 0xce, 0xff}));
}

TEST(SerialPort, StopWakesABlockedReaderPromptly) {
  pty_pair pty;
  serial_port port;
  ASSERT_FALSE(port.open(pty.path(), line_settings{}));
  auto result = std::async(std::launch::async, [&] {
    uint8_t buf[64];
    auto t0 = std::chrono::steady_clock::now();
    auto r = port.read_some(buf, 30s);
    return std::make_pair(r.status, std::chrono::steady_clock::now() - t0);
  });
  // Give the reader a chance to block; stop() works the same either way (sticky).
  ASSERT_EQ(result.wait_for(100ms), std::future_status::timeout);
  auto t0 = std::chrono::steady_clock::now();
  port.stop();
  ASSERT_EQ(result.wait_for(2s), std::future_status::ready);
  auto [status, _] = result.get();
  EXPECT_EQ(status, read_status::stopped);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  uint8_t buf[8];
  EXPECT_EQ(port.read_some(buf, 10s).status, read_status::stopped); // sticky
  port.clear_stop();
  EXPECT_EQ(port.read_some(buf, 10ms).status, read_status::timeout);
}

TEST(SerialPort, UnplugIsReportedAsDisconnected) {
  temp_dir dir;
  pty_pair pty(by_id(dir));
  serial_port port;
  ASSERT_FALSE(port.open(pty.path(), line_settings{}));
  ASSERT_TRUE(pty.write("abc"));
  EXPECT_EQ(read_n(port, 3).size(), 3u);
  pty.unplug();
  uint8_t buf[64];
  auto r = port.read_some(buf, 5s);
  ASSERT_EQ(r.status, read_status::error);
  EXPECT_EQ(r.error.kind, error_kind::disconnected);
  EXPECT_NE(r.error.message.find(by_id(dir)), std::string::npos) << r.error.message;
  EXPECT_NE(r.error.message.find("unplugged"), std::string::npos) << r.error.message;
  port.close();
  EXPECT_EQ(port.open(by_id(dir), line_settings{}).kind, error_kind::not_found);
}
