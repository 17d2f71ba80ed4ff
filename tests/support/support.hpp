#pragma once

// Helpers for tests that run real servers and processes: a child process, a free loopback port,
// waiting on a condition with a deadline (never sleep-and-hope), and temporary directories.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace wattline::test {

/// Returns a TCP port on 127.0.0.1 that was free when asked (bound to port 0 and released).
int free_tcp_port();

/// Polls `pred` every `step` until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10),
                std::chrono::milliseconds step = std::chrono::milliseconds(10));

/// True when something accepts TCP connections on 127.0.0.1:port.
bool tcp_port_open(int port);

/// A temporary directory, removed with everything in it on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }

private:
  std::filesystem::path path_;
};

/// A child process started with execvp; stdout and stderr go to a log file. Killed (SIGKILL) on
/// destruction unless it already ended.
class child_process {
public:
  child_process(std::vector<std::string> argv, std::filesystem::path log_file,
                std::vector<std::string> extra_env = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  [[nodiscard]] int pid() const { return pid_; }
  /// Sends `sig` to the process.
  void signal(int sig) const;
  /// Waits for the exit up to `timeout`; returns the exit status (128+signal when killed) or -1
  /// on timeout.
  int wait(std::chrono::milliseconds timeout);
  /// True while the process has not been reaped.
  bool running();
  /// The log file contents so far.
  [[nodiscard]] std::string log() const;

private:
  int pid_ = -1;
  int status_ = -1;
  std::filesystem::path log_file_;
};

/// Reads a whole file; empty when missing.
std::string read_file(const std::filesystem::path& p);

/// Writes (replaces) a whole file.
void write_file(const std::filesystem::path& p, const std::string& text);

/// Number of non-empty lines of a file (0 when missing).
std::size_t count_lines(const std::filesystem::path& p);

/// Runs the real `wattline` binary on pipeline texts, for end-to-end tests: each run writes its
/// pipeline to `dir/p<n>.yaml`, logs to `dir/wattline<n>.log`, has the status endpoint off and
/// the data directory `dir/data`.
class pipeline_runner {
public:
  explicit pipeline_runner(std::filesystem::path dir) : dir_(std::move(dir)) {}

  /// Starts `wattline run` on `yaml` with extra environment entries ("NAME=value").
  std::unique_ptr<child_process> run(const std::string& yaml, std::vector<std::string> env = {});

  /// YAML of a finite `file` source named `in` over a jsonl file; `extra` are more indented
  /// option lines.
  static std::string jsonl_source(const std::filesystem::path& input,
                                  const std::string& extra = {});

private:
  std::filesystem::path dir_;
  int runs_ = 0;
};

/// Members for end-to-end test fixtures (mix into a ::testing::Test): a temporary directory, a
/// runner of the wattline binary in it, and the jsonl file source YAML.
struct pipeline_fixture {
  temp_dir dir;
  pipeline_runner runner{dir.path()};

  std::unique_ptr<child_process> run(const std::string& yaml, std::vector<std::string> env = {}) {
    return runner.run(yaml, std::move(env));
  }

  static std::string source(const std::filesystem::path& input, const std::string& extra = {}) {
    return pipeline_runner::jsonl_source(input, extra);
  }
};

/// Absolute path of a file below the repository's tests/data directory.
std::filesystem::path data_path(const std::string& relative);

/// Finds an executable on PATH or in /usr/sbin, /sbin; empty when absent.
std::string find_program(const std::string& name);

} // namespace wattline::test
