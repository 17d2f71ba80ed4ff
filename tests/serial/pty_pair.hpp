#pragma once

// A pseudo-terminal pair standing in for a USB serial converter in tests: the slave side is the
// "serial port" the code under test opens (optionally through a stable symlink such as a fake
// /dev/serial/by-id path), the master side is the "meter" that writes bytes. It can be unplugged
// (master closed, symlink removed) and replugged (a new pair behind the same symlink).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <termios.h>
#include <vector>

namespace wattline::test {

/// A pty master/slave pair with an optional stable symlink to the slave. Not thread-safe: use one
/// thread for writes, unplug and replug (the reader under test runs elsewhere).
class pty_pair {
public:
  /// Opens a pair (posix_openpt, grantpt, unlockpt, ptsname), keeps a slave descriptor open for
  /// inspection and puts the slave into raw mode so nothing is echoed. When `link` is not empty,
  /// creates it (and its parent directories) as a symlink to the slave. Throws std::runtime_error
  /// on failure.
  explicit pty_pair(std::filesystem::path link = {});
  /// Unplugs.
  ~pty_pair();
  pty_pair(const pty_pair&) = delete;
  pty_pair& operator=(const pty_pair&) = delete;

  /// The path a reader should open: the symlink when one was given, else the slave path.
  [[nodiscard]] std::string path() const;
  /// The current slave device, e.g. "/dev/pts/7"; empty while unplugged.
  [[nodiscard]] const std::string& slave_path() const { return slave_path_; }
  /// The stable symlink (may be empty).
  [[nodiscard]] const std::filesystem::path& link() const { return link_; }
  /// True between construction/replug() and unplug().
  [[nodiscard]] bool plugged() const { return master_ >= 0; }
  /// The master descriptor (non-blocking), -1 while unplugged.
  [[nodiscard]] int master_fd() const { return master_; }
  /// A slave descriptor held by the harness, e.g. for tcgetattr; -1 while unplugged.
  [[nodiscard]] int slave_fd() const { return slave_; }
  /// The slave's current termios (tcgetattr on slave_fd()); throws when unplugged.
  [[nodiscard]] termios slave_termios() const;

  /// Writes all of `bytes` to the master, waiting up to `timeout` for buffer space; false on
  /// timeout, error or while unplugged.
  bool write(std::span<const uint8_t> bytes,
             std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Writes a string's bytes; see write().
  bool write(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Writes `bytes` in random chunks of 1..max_chunk bytes (seeded), sleeping `pace` between
  /// chunks, like a slow meter behind a converter with small USB packets.
  bool write_paced(std::span<const uint8_t> bytes, std::size_t max_chunk,
                   std::chrono::microseconds pace, uint64_t seed = 1);
  /// Reads what the slave side wrote (from the master), waiting up to `timeout` for the first
  /// byte.
  std::vector<uint8_t> read_master(std::chrono::milliseconds timeout);

  /// Simulates pulling the converter: closes master and slave descriptors and removes the
  /// symlink. Readers of the slave see a hang-up (POLLHUP / EIO). No-op when unplugged.
  void unplug();
  /// Simulates plugging it back in: a new pair, the same symlink pointing to the new slave.
  void replug();

private:
  void open_pair();

  std::filesystem::path link_;
  std::string slave_path_;
  int master_ = -1;
  int slave_ = -1;
};

/// `n` pseudo-random bytes (seeded), for ordering checks.
std::vector<uint8_t> random_bytes(std::size_t n, uint64_t seed = 42);

} // namespace wattline::test
