// Runtime behaviour of the real `wattline` binary: delivery exactly once and in order, supervision
// with a second pipeline unaffected, bounded memory behind a slow sink, SIGTERM drain, SIGHUP
// reload. Every wait is a condition with a deadline.

#include "tests/support/support.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <fstream>
#include <netinet/in.h>
#include <regex>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

namespace wattline::test {
namespace {

const std::string wattline_bin = std::string(WATTLINE_BINARY_DIR) + "/wattline";

/// Writes `n` jsonl records with a `seq` field 0..n-1, one microsecond apart.
void write_records(const std::filesystem::path& p, int n) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  for (int i = 0; i < n; ++i) {
    out << R"({"name":"meter","time":"2026-03-01T00:00:00.)" << std::setw(6) << std::setfill('0')
        << i % 1000000 << R"(Z","tags":{"meter":"m1"},"fields":{"seq":)" << i << R"(,"power":)"
        << (i * 0.5) << "}}\n";
  }
}

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::vector<std::string> lines;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty())
      lines.push_back(line);
  return lines;
}

/// The `seq` values in a jsonl output file, in file order.
std::vector<long> sequence_numbers(const std::filesystem::path& p) {
  std::vector<long> out;
  static const std::regex seq_re(R"("seq":(\d+))");
  for (const auto& line : read_lines(p)) {
    std::smatch m;
    if (std::regex_search(line, m, seq_re))
      out.push_back(std::stol(m[1]));
  }
  return out;
}

/// Resident set size of a process in KiB, 0 when it is gone.
long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return 0;
}

/// The records_out a node reported in its exit summary line.
long summary_value(const std::string& log, const std::string& node, const std::string& key) {
  std::regex re("summary: node=" + node + " .*" + key + "=(\\d+)");
  std::smatch m;
  if (std::regex_search(log, m, re))
    return std::stol(m[1]);
  return -1;
}

/// A plain HTTP/1.0 GET to 127.0.0.1:port; returns the whole response, empty on failure.
std::string http_get(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return {};
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

class Runtime : public ::testing::Test {
protected:
  temp_dir dir;

  std::unique_ptr<child_process> start(const std::vector<std::string>& files,
                                       const std::string& status = "off",
                                       std::vector<std::string> env = {}) {
    std::vector<std::string> argv{wattline_bin, "run",        "--status-address",
                                  status,       "--data-dir", (dir / "data").string()};
    for (const auto& f : files)
      argv.push_back(f);
    return std::make_unique<child_process>(argv, dir / "wattline.log", std::move(env));
  }
};

TEST_F(Runtime, FileSourceRecordsReachFileSinkExactlyOnceInOrder) {
  constexpr int n = 20000;
  write_records(dir / "in.jsonl", n);
  write_file(dir / "p.yaml",
             "sources:\n  in:\n    type: file\n    path: " + (dir / "in.jsonl").string() +
                 "\n    format: jsonl\ntransforms:\n  a:\n    type: tag\n"
                 "    inputs: [in]\n    tags: { site: home }\nsinks:\n  out:\n"
                 "    type: file\n    inputs: [a]\n    path: " +
                 (dir / "out.jsonl").string() + "\n    format: jsonl\n");
  auto proc = start({(dir / "p.yaml").string()});
  ASSERT_EQ(proc->wait(std::chrono::seconds(60)), 0) << proc->log();
  auto seqs = sequence_numbers(dir / "out.jsonl");
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(seqs[i], i) << "out of order at line " << i;
  auto lines = read_lines(dir / "out.jsonl");
  EXPECT_NE(lines.front().find(R"("site":"home")"), std::string::npos) << lines.front();
  EXPECT_NE(lines.front().find(R"("time":"2026-03-01T00:00:00Z")"), std::string::npos)
      << lines.front();
}

TEST_F(Runtime, FailingNodeRestartsWhileSecondPipelineKeepsFlowing) {
  write_records(dir / "in.jsonl", 50);
  // Two independent pipelines in two files, both endless (loops: 0) at a steady pace.
  write_file(dir / "a.yaml",
             "sources:\n  src_a:\n    type: file\n    path: " + (dir / "in.jsonl").string() +
                 "\n    format: jsonl\n    loops: 0\n    pacing: 200000\n"
                 "transforms:\n  flaky:\n    type: fail\n    inputs: [src_a]\n"
                 "    trigger_file: " +
                 (dir / "trigger").string() +
                 "\n    supervision: { initial_backoff_ms: 50 }\n"
                 "sinks:\n  out_a:\n    type: file\n    inputs: [flaky]\n    path: " +
                 (dir / "a.jsonl").string() + "\n");
  write_file(dir / "b.yaml",
             "sources:\n  src_b:\n    type: file\n    path: " + (dir / "in.jsonl").string() +
                 "\n    format: jsonl\n    loops: 0\n    pacing: 200000\n"
                 "sinks:\n  out_b:\n    type: file\n    inputs: [src_b]\n    path: " +
                 (dir / "b.jsonl").string() + "\n");
  auto proc = start({(dir / "a.yaml").string(), (dir / "b.yaml").string()});
  ASSERT_TRUE(
      wait_until([&] { return count_lines(dir / "a.jsonl") > 100; }, std::chrono::seconds(20)))
      << proc->log();
  write_file(dir / "trigger", "");
  ASSERT_TRUE(wait_until([&] { return proc->log().find("[flaky] failed") != std::string::npos; },
                         std::chrono::seconds(20)))
      << proc->log();
  // While and after the failing node restarts, pipeline b keeps flowing and a resumes.
  auto b_at_failure = count_lines(dir / "b.jsonl");
  ASSERT_TRUE(
      wait_until([&] { return proc->log().find("[flaky] restarting") != std::string::npos; },
                 std::chrono::seconds(20)))
      << proc->log();
  auto a_after_restart = count_lines(dir / "a.jsonl");
  EXPECT_TRUE(wait_until([&] { return count_lines(dir / "b.jsonl") > b_at_failure + 200; },
                         std::chrono::seconds(20)));
  EXPECT_TRUE(wait_until([&] { return count_lines(dir / "a.jsonl") > a_after_restart + 200; },
                         std::chrono::seconds(20)));
  proc->signal(SIGTERM);
  EXPECT_EQ(proc->wait(std::chrono::seconds(30)), 0) << proc->log();
}

TEST_F(Runtime, SlowSinkKeepsMemoryBounded) {
  // 400k records (~40 MB of JSON) behind a sink taking one batch per 2 ms: without backpressure
  // the source would read everything into memory.
  write_records(dir / "in.jsonl", 400000);
  write_file(dir / "p.yaml",
             "sources:\n  in:\n    type: file\n    path: " + (dir / "in.jsonl").string() +
                 "\n    format: jsonl\nsinks:\n  slow:\n    type: blackhole\n"
                 "    inputs: [in]\n    delay_ms: 2\n");
  auto proc = start({(dir / "p.yaml").string()});
  long peak = 0;
  int samples = 0;
  // Sample for a while (the drain of 400 batches at 2 ms takes longer than this loop).
  wait_until(
      [&] {
        peak = std::max(peak, rss_kib(proc->pid()));
        return ++samples >= 100 || !proc->running();
      },
      std::chrono::seconds(30), std::chrono::milliseconds(10));
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, 64 * 1024) << "peak RSS " << peak << " KiB";
  proc->signal(SIGTERM);
  EXPECT_EQ(proc->wait(std::chrono::seconds(60)), 0) << proc->log();
}

TEST_F(Runtime, SigtermFlushesEverythingInFlightAndExitsZero) {
  write_records(dir / "in.jsonl", 1000);
  write_file(dir / "p.yaml",
             "sources:\n  in:\n    type: file\n    path: " + (dir / "in.jsonl").string() +
                 "\n    format: jsonl\n    loops: 0\ntransforms:\n  t:\n"
                 "    type: tag\n    inputs: [in]\n    tags: { a: b }\n"
                 "sinks:\n  out:\n    type: file\n    inputs: [t]\n    path: " +
                 (dir / "out.jsonl").string() + "\n");
  auto proc = start({(dir / "p.yaml").string()});
  ASSERT_TRUE(
      wait_until([&] { return count_lines(dir / "out.jsonl") > 5000; }, std::chrono::seconds(20)))
      << proc->log();
  proc->signal(SIGTERM);
  ASSERT_EQ(proc->wait(std::chrono::seconds(30)), 0) << proc->log();
  auto log = proc->log();
  long emitted = summary_value(log, "in", "records_out");
  ASSERT_GT(emitted, 5000) << log;
  EXPECT_EQ(static_cast<long>(count_lines(dir / "out.jsonl")), emitted) << log;
  EXPECT_EQ(summary_value(log, "out", "dropped"), 0) << log;
}

TEST_F(Runtime, SighupWithInvalidFileKeepsOldGraphRunning) {
  write_records(dir / "in.jsonl", 100);
  auto good = "sources:\n  in:\n    type: file\n    path: " + (dir / "in.jsonl").string() +
              "\n    format: jsonl\n    loops: 0\n    pacing: 400000\n"
              "sinks:\n  out:\n    type: file\n    inputs: [in]\n    path: " +
              (dir / "out.jsonl").string() + "\n";
  write_file(dir / "p.yaml", good);
  auto proc = start({(dir / "p.yaml").string()});
  ASSERT_TRUE(
      wait_until([&] { return count_lines(dir / "out.jsonl") > 50; }, std::chrono::seconds(20)))
      << proc->log();
  write_file(dir / "p.yaml", "sources:\n  in:\n    type: file\n    pth: x\n");
  proc->signal(SIGHUP);
  ASSERT_TRUE(
      wait_until([&] { return proc->log().find("keeping the running graph") != std::string::npos; },
                 std::chrono::seconds(20)))
      << proc->log();
  EXPECT_NE(proc->log().find("unknown option 'pth'"), std::string::npos) << proc->log();
  auto before = count_lines(dir / "out.jsonl");
  EXPECT_TRUE(wait_until([&] { return count_lines(dir / "out.jsonl") > before + 100; },
                         std::chrono::seconds(20)));
  proc->signal(SIGTERM);
  EXPECT_EQ(proc->wait(std::chrono::seconds(30)), 0) << proc->log();
}

TEST_F(Runtime, SighupWithValidFileSwitchesToNewGraph) {
  write_records(dir / "in.jsonl", 100);
  auto pipeline = [&](const std::string& out) {
    return "sources:\n  in:\n    type: file\n    path: " + (dir / "in.jsonl").string() +
           "\n    format: jsonl\n    loops: 0\n    pacing: 400000\n"
           "sinks:\n  out:\n    type: file\n    inputs: [in]\n    path: " +
           (dir / out).string() + "\n";
  };
  write_file(dir / "p.yaml", pipeline("first.jsonl"));
  auto proc = start({(dir / "p.yaml").string()});
  ASSERT_TRUE(
      wait_until([&] { return count_lines(dir / "first.jsonl") > 50; }, std::chrono::seconds(20)))
      << proc->log();
  write_file(dir / "p.yaml", pipeline("second.jsonl"));
  proc->signal(SIGHUP);
  EXPECT_TRUE(
      wait_until([&] { return count_lines(dir / "second.jsonl") > 50; }, std::chrono::seconds(20)))
      << proc->log();
  proc->signal(SIGTERM);
  EXPECT_EQ(proc->wait(std::chrono::seconds(30)), 0) << proc->log();
}

TEST_F(Runtime, VersionNamesTheAllocatorTheProcessRunsWith) {
  auto proc = std::make_unique<child_process>(std::vector<std::string>{wattline_bin, "--version"},
                                              dir / "version.log");
  ASSERT_EQ(proc->wait(std::chrono::seconds(20)), 0) << proc->log();
  const auto out = proc->log();
  EXPECT_EQ(out.rfind("wattline ", 0), 0U) << out;
#if defined(WATTLINE_EXPECT_JEMALLOC)
  // The default build links jemalloc; the line comes from jemalloc's own control interface.
  EXPECT_NE(out.find("\nallocator: jemalloc 5."), std::string::npos) << out;
#elif defined(__SANITIZE_ADDRESS__)
  EXPECT_NE(out.find("\nallocator: AddressSanitizer's allocator"), std::string::npos) << out;
#else
  EXPECT_NE(out.find("\nallocator: glibc malloc"), std::string::npos) << out;
#endif
}

TEST_F(Runtime, InvalidConfigExitsWithCode78BeforeStartingAnything) {
  write_file(dir / "p.yaml", "sources:\n  in:\n    type: file\n    pth: x\n");
  auto proc = start({(dir / "p.yaml").string()});
  EXPECT_EQ(proc->wait(std::chrono::seconds(20)), 78);
  auto log = proc->log();
  EXPECT_NE(log.find("p.yaml:4:5: error: unknown option 'pth'"), std::string::npos) << log;
  EXPECT_EQ(log.find("running"), std::string::npos) << log;
}

TEST_F(Runtime, FailurePolicyShutdownEndsProcessWithSoftwareError) {
  write_records(dir / "in.jsonl", 10);
  write_file(dir / "p.yaml",
             "sources:\n  in:\n    type: file\n    path: " + (dir / "in.jsonl").string() +
                 "\n    format: jsonl\n    loops: 0\n    pacing: 100000\n"
                 "transforms:\n  broken:\n    type: fail\n    inputs: [in]\n"
                 "    fail_on_start: true\n    supervision:\n"
                 "      initial_backoff_ms: 10\n      max_backoff_ms: 20\n"
                 "      max_restarts: 2\n      on_failure: shutdown\n"
                 "sinks:\n  out:\n    type: blackhole\n    inputs: [broken]\n");
  auto proc = start({(dir / "p.yaml").string()});
  EXPECT_EQ(proc->wait(std::chrono::seconds(30)), 70) << proc->log();
  EXPECT_NE(proc->log().find("on_failure: shutdown"), std::string::npos) << proc->log();
}

TEST_F(Runtime, StatusEndpointServesHealthAndMetricsWithoutSecrets) {
  write_records(dir / "in.jsonl", 100);
  int port = free_tcp_port();
  write_file(dir / "p.yaml",
             "sources:\n  in:\n    type: file\n    path: " + (dir / "in.jsonl").string() +
                 "\n    format: jsonl\n    loops: 0\n    pacing: 400000\n"
                 "transforms:\n  decode_never:\n    type: tag\n    inputs: [in]\n"
                 "    tags: { token: \"${SECRET_TOKEN}\" }\n"
                 "sinks:\n  out:\n    type: blackhole\n    inputs: [decode_never]\n");
  auto proc = start({(dir / "p.yaml").string()}, "127.0.0.1:" + std::to_string(port),
                    {"SECRET_TOKEN=s3cr3t-value"});
  std::string health;
  ASSERT_TRUE(wait_until(
      [&] {
        health = http_get(port, "/health");
        return health.find("\"running\"") != std::string::npos;
      },
      std::chrono::seconds(20)))
      << health << proc->log();
  EXPECT_NE(health.find("200 OK"), std::string::npos) << health;
  EXPECT_NE(health.find("\"out\""), std::string::npos) << health;
  std::string metrics;
  ASSERT_TRUE(wait_until(
      [&] {
        metrics = http_get(port, "/metrics");
        return metrics.find("wattline_node_records_in_total{") != std::string::npos;
      },
      std::chrono::seconds(20)))
      << metrics;
  EXPECT_NE(metrics.find("node=\"out\""), std::string::npos) << metrics;
  EXPECT_EQ(health.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(metrics.find("s3cr3t"), std::string::npos);
  EXPECT_NE(http_get(port, "/nope").find("404"), std::string::npos);
  proc->signal(SIGTERM);
  EXPECT_EQ(proc->wait(std::chrono::seconds(30)), 0) << proc->log();
  EXPECT_EQ(proc->log().find("s3cr3t"), std::string::npos);
}

} // namespace
} // namespace wattline::test
