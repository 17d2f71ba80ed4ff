// End to end through the real `wattline` binary: encrypted L+G E450 push messages (the demo
// capture examples/captures/demo-lge450.hdlc.hex) arrive at meter pace in random chunks, either
// through a pseudo-terminal behind a stable by-id style symlink (`serial` source; unplugged and
// replugged while running) or from a loopback ser2net-style TCP server (`tcp` source; the server
// drops the connection and accepts again). `dlms` decodes them with the key from a file and the
// `file` sink writes jsonl; every record is compared with what the decoder gives for the same
// bytes run directly and with the capture's comment lines. SIGTERM ends each run with exit 0.
//
// The meter is the only place that sleeps (its push period and the pacing of its chunks); every
// other wait is a condition with a deadline.

#include "actors/dlms/decoder.hpp"
#include "tests/serial/pty_pair.hpp"
#include "tests/support/support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <regex>
#include <span>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <variant>

namespace wattline::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

const std::string wattline_bin = std::string(WATTLINE_BINARY_DIR) + "/wattline";
// The published demo keys of the capture (examples/captures/README.md).
constexpr const char* demo_key = "000102030405060708090A0B0C0D0E0F";
constexpr const char* demo_auth_key = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF";
constexpr const char* demo_meter_id = "LGZ1030000004242";
// A real E450 pushes every 5 s (1-10 s for most meters); one message per 200 ms keeps the tests
// short while keeping the meter's shape: a burst of bytes, then silence.
constexpr auto meter_period = 200ms;
// Within a message: chunks of 1..max_chunk bytes, like a converter's small USB packets.
constexpr std::size_t max_chunk = 24;
constexpr auto chunk_pace = 300us;

int64_t ms_since(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t).count();
}

// --- The capture --------------------------------------------------------------------------------

/// One push message of the capture: its HDLC frames and the values its comment line states.
struct push_message {
  int number = 0;             // 1-based, as in the comment line
  std::vector<uint8_t> bytes; // all frames of the message (general-block-transfer blocks)
  double power_w = 0;         // "P+ 167 W"
  double energy_wh = 0;       // "A+ 6226327 Wh"
};

std::vector<uint8_t> from_hex(std::string_view text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : text) {
    int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
            : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                        : -1;
    if (v < 0)
      continue; // whitespace
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  return out;
}

/// The messages of the demo capture, each preceded in the file by a comment such as
/// "# message 1: 2026-01-19 05:45:00 local, low (T2) tariff, P+ 167 W, A+ 6226327 Wh".
std::vector<push_message> load_capture() {
  std::ifstream in(std::filesystem::path(WATTLINE_SOURCE_DIR) / "examples" / "captures" /
                   "demo-lge450.hdlc.hex");
  static const std::regex header(
      R"(^#\s*message\s+(\d+):.*P\+\s+([0-9.]+)\s+W,\s+A\+\s+([0-9.]+)\s+Wh)");
  std::vector<push_message> out;
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, header)) {
      out.push_back({std::stoi(m[1]), {}, std::stod(m[2]), std::stod(m[3])});
      continue;
    }
    auto frames = from_hex(line.substr(0, line.find('#')));
    if (!frames.empty() && !out.empty())
      out.back().bytes.insert(out.back().bytes.end(), frames.begin(), frames.end());
  }
  return out;
}

/// The record of every message from the decoder run directly on the same bytes, with the options
/// the pipeline gives the `dlms` transform.
std::vector<record> decode_directly(const std::vector<push_message>& messages) {
  dlms::options o;
  o.profile = "lge450";
  o.timezone = "Europe/Zurich";
  EXPECT_EQ(dlms::parse_key(demo_key, o.key), "");
  EXPECT_EQ(dlms::parse_key(demo_auth_key, o.auth_key), "");
  dlms::decoder dec(o);
  std::vector<record> out;
  for (const auto& m : messages) {
    auto r = dec.feed(m.bytes, 0);
    EXPECT_TRUE(r.errors.empty()) << "message " << m.number << ": " << r.errors.front().message;
    EXPECT_EQ(r.records.size(), 1U) << "message " << m.number;
    out.push_back(r.records.empty() ? record{} : r.records.front());
  }
  return out;
}

/// "2026-01-19T04:45:00Z" (the file sink's form of whole seconds).
std::string rfc3339(int64_t time_ns) {
  EXPECT_EQ(time_ns % 1'000'000'000, 0) << "the capture's times are whole seconds";
  std::time_t t = time_ns / 1'000'000'000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// --- The output ---------------------------------------------------------------------------------

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::vector<std::string> lines;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty())
      lines.push_back(line);
  return lines;
}

std::size_t count_occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

/// Checks one jsonl record against the directly decoded one: name, tags, and every field with
/// its exact value (and no other field).
void expect_same_record(const nlohmann::json& got, const record& want, const std::string& where) {
  EXPECT_EQ(got.value("name", ""), want.name) << where;
  EXPECT_EQ(got.value("time", ""), rfc3339(want.time_ns)) << where;
  const auto tags = got.value("tags", nlohmann::json::object());
  for (const auto& [key, value] : want.tags)
    EXPECT_EQ(tags.value(key, "<missing>"), value) << where << " tag " << key;
  const auto fields = got.value("fields", nlohmann::json());
  ASSERT_TRUE(fields.is_object()) << where;
  EXPECT_EQ(fields.size(), want.fields.size()) << where << ": " << fields.dump();
  for (const auto& f : want.fields) {
    auto it = fields.find(f.key);
    if (it == fields.end()) {
      ADD_FAILURE() << where << ": field " << f.key << " missing";
      continue;
    }
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, double>)
            EXPECT_DOUBLE_EQ(it->template get<double>(), v) << where << " field " << f.key;
          else
            EXPECT_EQ(it->template get<T>(), v) << where << " field " << f.key;
        },
        f.value);
  }
}

// --- The meter ----------------------------------------------------------------------------------

/// The meter: pushes the capture's messages in order, one per meter_period, through `send`. A
/// push while nothing is connected (send returns false) is lost, as with a real meter.
class meter {
public:
  using sender = std::function<bool(std::span<const uint8_t> bytes, uint64_t seed)>;

  /// Pushes at most `count` messages (and at most all of them).
  meter(const std::vector<push_message>& messages, sender send, std::size_t count = std::size_t(-1))
      : messages_(messages), count_(std::min(count, messages.size())), send_(std::move(send)),
        due_(steady::now()) {}

  /// Keeps pushing until `pred` holds or `timeout` passes; returns `pred`'s last value.
  bool push_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = steady::now() + timeout;
    for (;;) {
      if (pred())
        return true;
      auto now = steady::now();
      if (now >= deadline)
        return pred();
      if (now >= due_ && next_ < count_) {
        if (send_(messages_[next_].bytes, next_ + 1))
          delivered_.push_back(next_);
        else
          ++lost_;
        ++next_;
        due_ = std::max(due_ + meter_period, now);
        continue;
      }
      // The meter's pacing, with a short step so that `pred` is polled like in wait_until.
      std::this_thread::sleep_until(std::min({due_, deadline, now + 10ms}));
    }
  }

  /// Indices of the messages handed to the converter, in order.
  [[nodiscard]] const std::vector<std::size_t>& delivered() const { return delivered_; }
  /// Pushes lost so far because nothing was connected.
  [[nodiscard]] std::size_t lost() const { return lost_; }
  /// Index of the next message to push.
  [[nodiscard]] std::size_t next() const { return next_; }

private:
  const std::vector<push_message>& messages_;
  std::size_t count_;
  sender send_;
  steady::time_point due_;
  std::size_t next_ = 0;
  std::size_t lost_ = 0;
  std::vector<std::size_t> delivered_;
};

// --- A ser2net-style loopback TCP server --------------------------------------------------------

class tcp_server {
public:
  tcp_server() {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_ < 0)
      throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0; // the kernel picks a free port: no race with other tests
    socklen_t len = sizeof(addr);
    if (::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_, 4) != 0 ||
        ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listen_);
      throw std::runtime_error("bind/listen on 127.0.0.1 failed");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~tcp_server() {
    drop();
    ::close(listen_);
  }
  tcp_server(const tcp_server&) = delete;
  tcp_server& operator=(const tcp_server&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] bool connected() const { return conn_ >= 0; }
  [[nodiscard]] int accepted() const { return accepted_; }

  /// Accepts a pending connection, if any (non-blocking); true when one is open.
  bool try_accept() {
    if (conn_ >= 0)
      return true;
    conn_ = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn_ >= 0)
      ++accepted_;
    return conn_ >= 0;
  }

  /// Sends `bytes` in random chunks of 1..max_chunk bytes with chunk_pace between them; with
  /// `cut_after` set, closes the connection after that many bytes (a converter restarting in the
  /// middle of a frame). False when not connected, cut, or the peer went away.
  bool send_paced(std::span<const uint8_t> bytes, uint64_t seed,
                  std::size_t cut_after = std::size_t(-1)) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> size(1, max_chunk);
    std::size_t done = 0;
    while (conn_ >= 0 && done < bytes.size()) {
      if (done >= cut_after) {
        drop();
        return false;
      }
      auto n = std::min({size(rng), bytes.size() - done, cut_after - done});
      if (!send_all(bytes.subspan(done, n))) {
        drop();
        return false;
      }
      done += n;
      if (done < bytes.size())
        std::this_thread::sleep_for(chunk_pace); // meter pacing within a message
    }
    return conn_ >= 0 && done == bytes.size();
  }

  /// Closes the current connection (the listener stays).
  void drop() {
    if (conn_ >= 0)
      ::close(conn_);
    conn_ = -1;
  }

private:
  bool send_all(std::span<const uint8_t> bytes) {
    std::size_t done = 0;
    const auto deadline = steady::now() + 5s;
    while (done < bytes.size()) {
      ssize_t n = ::send(conn_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        return false;
      pollfd p{conn_, POLLOUT, 0};
      if (steady::now() >= deadline || ::poll(&p, 1, 100) < 0)
        return false;
    }
    return true;
  }

  int listen_ = -1;
  int conn_ = -1;
  int port_ = 0;
  int accepted_ = 0;
};

// --- The fixture --------------------------------------------------------------------------------

class SerialE2e : public ::testing::Test {
protected:
  void SetUp() override {
    capture = load_capture();
    ASSERT_EQ(capture.size(), 60U) << "examples/captures/demo-lge450.hdlc.hex";
    expected = decode_directly(capture);
    for (std::size_t i = 0; i < expected.size(); ++i)
      by_time[rfc3339(expected[i].time_ns)] = i;
    ASSERT_EQ(by_time.size(), capture.size()) << "message times must be unique";
  }

  /// Writes the pipeline `source` → dlms (keys from files next to it) → file (jsonl) and starts
  /// `wattline run` on it.
  std::unique_ptr<child_process> start(const std::string& source_yaml) {
    // Key files as an installer would write them: with a trailing newline.
    std::ofstream(dir / "meter.key") << demo_key << "\n";
    std::ofstream(dir / "meter.auth_key") << demo_auth_key << "\n";
    std::ofstream(dir / "meter.yaml") << "engine:\n  log_level: info\n"
                                         "sources:\n  meter:\n"
                                      << source_yaml
                                      << "transforms:\n  decode:\n    type: dlms\n"
                                         "    inputs: [meter]\n    profile: lge450\n"
                                         "    key: ${file:meter.key}\n"
                                         "    auth_key: ${file:meter.auth_key}\n"
                                         "    timezone: Europe/Zurich\n"
                                         "sinks:\n  out:\n    type: file\n    inputs: [decode]\n"
                                         "    path: "
                                      << out().string() << "\n    format: jsonl\n";
    return std::make_unique<child_process>(
        std::vector<std::string>{wattline_bin, "run", (dir / "meter.yaml").string(),
                                 "--status-address", "off", "--data-dir", (dir / "data").string()},
        dir / "wattline.log");
  }

  [[nodiscard]] std::filesystem::path out() const { return dir / "out.jsonl"; }
  [[nodiscard]] std::size_t records() const { return read_lines(out()).size(); }
  /// Index of the message the last record came from; -1 when none (or unknown).
  [[nodiscard]] long last_decoded() const {
    auto lines = read_lines(out());
    if (lines.empty())
      return -1;
    auto j = nlohmann::json::parse(lines.back(), nullptr, false);
    auto it = j.is_object() ? by_time.find(j.value("time", "")) : by_time.end();
    return it == by_time.end() ? -1 : static_cast<long>(it->second);
  }

  /// Checks every record written so far against the directly decoded message with the same time
  /// and the capture's comment line; returns the message indices in file order.
  std::vector<std::size_t> check_output() {
    std::vector<std::size_t> indices;
    auto lines = read_lines(out());
    for (std::size_t n = 0; n < lines.size(); ++n) {
      const std::string where = "out.jsonl line " + std::to_string(n + 1);
      auto j = nlohmann::json::parse(lines[n], nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        ADD_FAILURE() << where << " is not a JSON object: " << lines[n];
        continue;
      }
      auto it = by_time.find(j.value("time", ""));
      if (it == by_time.end()) {
        ADD_FAILURE() << where << " has a time of no pushed message: " << lines[n];
        continue;
      }
      const auto i = it->second;
      indices.push_back(i);
      expect_same_record(j, expected[i], where);
      EXPECT_EQ(j.value("tags", nlohmann::json::object()).value("meter", ""), demo_meter_id)
          << where;
      // The values the capture's comment line states for this message.
      const auto fields = j.value("fields", nlohmann::json::object());
      EXPECT_DOUBLE_EQ(fields.value("ACTIVE_POWER_P", -1.0), capture[i].power_w) << where;
      EXPECT_DOUBLE_EQ(fields.value("ACTIVE_ENERGY_P", -1.0), capture[i].energy_wh) << where;
    }
    return indices;
  }

  /// SIGTERM: the process drains and exits 0; every record it decoded is in the file.
  void stop(child_process& proc) {
    ASSERT_TRUE(proc.running()) << proc.log();
    proc.signal(SIGTERM);
    ASSERT_EQ(proc.wait(30s), 0) << proc.log();
    static const std::regex decoded(R"(summary: node=decode .*records_out=(\d+))");
    std::smatch m;
    const auto log = proc.log();
    ASSERT_TRUE(std::regex_search(log, m, decoded)) << log;
    EXPECT_EQ(std::stoul(m[1]), records()) << "every decoded record reached the file\n" << log;
  }

  void unplug_and_replug(std::size_t pushes_lost);

  temp_dir dir;
  std::vector<push_message> capture;
  std::vector<record> expected;
  std::map<std::string, std::size_t> by_time;
};

std::string serial_source_yaml(const std::string& device) {
  return "    type: serial\n    device: " + device + "\n    profile: lge450\n";
}

std::filesystem::path by_id_link(const temp_dir& dir) {
  return dir / "dev" / "serial" / "by-id" / "usb-FTDI_FT232R_USB_UART_E2E0450-if00-port0";
}

TEST_F(SerialE2e, SerialSourceDecodesEveryMessageWrittenAtMeterPaceInRandomChunks) {
  pty_pair pty(by_id_link(dir));
  auto proc = start(serial_source_yaml(pty.link().string()));
  // The meter starts pushing once the converter is open (bytes before that are flushed on open).
  ASSERT_TRUE(wait_until(
      [&] { return proc->log().find("reading " + pty.slave_path()) != std::string::npos; }, 20s))
      << proc->log();

  constexpr std::size_t n = 15;
  meter m(
      capture,
      [&](std::span<const uint8_t> bytes, uint64_t seed) {
        return pty.write_paced(bytes, max_chunk, chunk_pace, seed);
      },
      n);
  ASSERT_TRUE(m.push_until([&] { return records() >= n; }, 20s)) << records() << " records\n"
                                                                 << proc->log();
  ASSERT_EQ(m.lost(), 0U);
  ASSERT_EQ(m.delivered().size(), n);

  auto indices = check_output();
  ASSERT_EQ(indices.size(), n);
  EXPECT_EQ(indices, m.delivered()) << "every message exactly once, in order";
  // Random chunking split frames everywhere, yet the decoder reported nothing.
  EXPECT_EQ(proc->log().find("[decode]"), std::string::npos) << proc->log();
  stop(*proc);
  EXPECT_EQ(records(), n);
}

/// Runs the pipeline on a pty, unplugs it while the meter keeps pushing (`pushes_lost` pushes go
/// into the void), replugs it and checks that the next push decodes within 2 s of the replug.
void SerialE2e::unplug_and_replug(std::size_t pushes_lost) {
  pty_pair pty(by_id_link(dir));
  auto proc = start(serial_source_yaml(pty.link().string()));
  ASSERT_TRUE(wait_until(
      [&] { return proc->log().find("reading " + pty.slave_path()) != std::string::npos; }, 20s))
      << proc->log();
  meter m(capture, [&](std::span<const uint8_t> bytes, uint64_t seed) {
    return pty.plugged() && pty.write_paced(bytes, max_chunk, chunk_pace, seed);
  });
  // Unplug between two pushes, once everything pushed so far was decoded.
  ASSERT_TRUE(
      m.push_until([&] { return records() >= 5 && records() == m.delivered().size(); }, 20s))
      << proc->log();
  const auto before_unplug = m.delivered();

  // Pull the converter: the master closes and the by-id link disappears.
  const std::string missing = "is the converter plugged in?";
  pty.unplug();
  const auto unplugged_at = steady::now();
  // The meter keeps pushing into the void; the log shows the source waiting for the device (its
  // open fails with the hint), and the process keeps running.
  ASSERT_TRUE(m.push_until(
      [&] {
        return !proc->running() ||
               (m.lost() >= pushes_lost && proc->log().find(missing) != std::string::npos);
      },
      20s + meter_period * static_cast<int>(pushes_lost)))
      << proc->log();
  ASSERT_TRUE(proc->running()) << proc->log();
  const auto log_unplugged = proc->log();
  EXPECT_NE(log_unplugged.find(pty.link().string() + ": cannot open (ENOENT"), std::string::npos)
      << log_unplugged;
  EXPECT_EQ(records(), before_unplug.size()) << "nothing decoded while unplugged";

  // Plug it back in: a new pty behind the same link. The next push decodes within 2 s.
  pty.replug();
  const auto replugged_at = steady::now();
  const auto unplugged_ms = ms_since(unplugged_at);
  const auto first_after = m.next();
  ASSERT_TRUE(m.push_until([&] { return records() > before_unplug.size(); }, 10s))
      << "no record within 10 s of the replug\n"
      << proc->log();
  const auto recovery_ms = ms_since(replugged_at);
  RecordProperty("unplugged_ms", std::to_string(unplugged_ms));
  RecordProperty("recovery_ms", std::to_string(recovery_ms));
  std::printf("unplugged for %lld ms; first record %lld ms after the replug\n",
              static_cast<long long>(unplugged_ms), static_cast<long long>(recovery_ms));
  EXPECT_LE(recovery_ms, 2000) << proc->log();
  // The kernel may give the new pty the old number: count the opens instead of matching names.
  EXPECT_EQ(count_occurrences(proc->log(), "] reading /dev/pts/"), 2U) << proc->log();

  // Records keep coming.
  ASSERT_TRUE(m.push_until([&] { return records() >= before_unplug.size() + 5; }, 20s))
      << proc->log();
  auto indices = check_output();
  ASSERT_GT(indices.size(), before_unplug.size());
  EXPECT_TRUE(std::equal(before_unplug.begin(), before_unplug.end(), indices.begin()))
      << "everything pushed before the unplug was decoded";
  EXPECT_GE(indices[before_unplug.size()], first_after) << "only pushes after the replug follow";
  EXPECT_TRUE(std::is_sorted(indices.begin(), indices.end()) &&
              std::adjacent_find(indices.begin(), indices.end()) == indices.end())
      << "in order, no duplicates";
  stop(*proc);
}

TEST_F(SerialE2e, SerialSourceWaitsWhileUnpluggedAndDecodesAgainWithinTwoSecondsOfReplug) {
  unplug_and_replug(5); // a second
}

TEST_F(SerialE2e, SerialSourceDecodesWithinTwoSecondsOfReplugAfterALongUnplug) {
  // Six seconds: longer than the reconnect backoff takes to reach its cap.
  unplug_and_replug(30);
}

TEST_F(SerialE2e, TcpSourceKeepsDecodingAcrossConverterDisconnects) {
  tcp_server server;
  auto proc = start(
      "    type: tcp\n    host: 127.0.0.1\n    port: " + std::to_string(server.port()) + "\n");
  bool cut_next = false; // close the connection halfway through the next message
  meter m(capture, [&](std::span<const uint8_t> bytes, uint64_t seed) {
    if (!std::exchange(cut_next, false))
      return server.send_paced(bytes, seed);
    EXPECT_FALSE(server.send_paced(bytes, seed, bytes.size() / 2));
    return false;
  });
  // Decoded from messages pushed at or after `first`: the next records came over this connection.
  auto decoded_since = [&](std::size_t first, std::size_t n) {
    return m.push_until([&] { return last_decoded() >= static_cast<long>(first + n - 1); }, 20s);
  };
  ASSERT_TRUE(wait_until([&] { return server.try_accept(); }, 20s)) << proc->log();
  ASSERT_TRUE(decoded_since(m.next(), 4)) << proc->log();

  // 1. The converter closes the connection between two messages and accepts again; ser2net
  // style, the meter keeps pushing meanwhile (those pushes are lost).
  server.drop();
  auto dropped_at = steady::now();
  ASSERT_TRUE(m.push_until([&] { return server.try_accept(); }, 20s)) << proc->log();
  std::printf("reconnected %lld ms after the converter closed\n",
              static_cast<long long>(ms_since(dropped_at)));
  ASSERT_TRUE(decoded_since(m.next(), 4)) << proc->log();

  // 2. It closes in the middle of a message (a converter restart mid-frame): that message is
  // lost, the following ones decode.
  const auto cut = m.next();
  cut_next = true;
  ASSERT_TRUE(m.push_until([&] { return !server.connected(); }, 5s));
  ASSERT_GT(m.next(), cut);
  dropped_at = steady::now();
  ASSERT_TRUE(m.push_until([&] { return server.try_accept(); }, 20s)) << proc->log();
  std::printf("reconnected %lld ms after the converter closed mid-message\n",
              static_cast<long long>(ms_since(dropped_at)));
  ASSERT_TRUE(decoded_since(m.next(), 4)) << proc->log();
  EXPECT_EQ(server.accepted(), 3);
  ASSERT_TRUE(proc->running()) << proc->log();

  auto indices = check_output();
  EXPECT_TRUE(std::is_sorted(indices.begin(), indices.end()) &&
              std::adjacent_find(indices.begin(), indices.end()) == indices.end())
      << "in order, no duplicates";
  EXPECT_EQ(std::count(indices.begin(), indices.end(), cut), 0) << "the cut message is not decoded";
  // Every whole message the converter delivered was decoded, except possibly the last ones still
  // in flight.
  for (auto i : m.delivered()) {
    if (i < indices.back()) {
      EXPECT_NE(std::count(indices.begin(), indices.end(), i), 0) << "message " << i + 1;
    }
  }
  stop(*proc);
}

} // namespace
} // namespace wattline::test
