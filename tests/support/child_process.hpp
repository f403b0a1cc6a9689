// Running a built program (an example) as a child process in a test: its output goes to files
// the test reads line by line while it runs; the child is killed and reaped whatever happens.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace asiokafka::test {

/// A child process started with fork/exec. The destructor SIGKILLs it if it still runs and
/// reaps it; the child also gets SIGKILL if the test process dies (PR_SET_PDEATHSIG), so no
/// run leaves a consumer behind.
class ChildProcess {
 public:
  /// Starts `program` with `args`; stdout goes to `out_file`, stderr to `err_file`
  /// (both truncated). Throws std::runtime_error when fork fails.
  ChildProcess(const std::string& program, const std::vector<std::string>& args, const std::filesystem::path& out_file,
               const std::filesystem::path& err_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  /// Sends `signo` unless the child was reaped already.
  void signal(int signo) const;
  /// Reaps the child if it has ended (never blocks); its wait status once reaped.
  std::optional<int> poll_exit();
  /// poll_exit() until the child has ended or `limit` passes.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// Complete lines appended to a file since the last call (a partial last line waits for its
/// newline): a child's output read while it runs.
class LineReader {
 public:
  explicit LineReader(std::filesystem::path file) : file_(std::move(file)) {}
  std::vector<std::string> poll();

 private:
  std::filesystem::path file_;
  std::uintmax_t offset_ = 0;
};

/// A fresh directory under the system's temporary directory, removed with its files on
/// destruction unless keep() was called (to look at a failed run's output).
class TempDir {
 public:
  explicit TempDir(const std::string& stem);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }
  void keep() noexcept { keep_ = true; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

}  // namespace asiokafka::test
