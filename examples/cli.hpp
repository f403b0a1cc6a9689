// Command lines of the long-running examples: positional arguments with defaults, and
// `--name value` options, so that a test can bound a run (--max-records, --idle-exit-ms).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace examples {

class CommandLine {
 public:
  /// Splits argv into positional arguments and the options named in `options` (each takes a
  /// value). Anything else starting with "--" is an error: prints `usage` and exits with 2.
  CommandLine(int argc, char** argv, const std::set<std::string>& options, const char* usage) {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg.rfind("--", 0) != 0) {
        positional_.push_back(arg);
        continue;
      }
      if (!options.count(arg.substr(2)) || i + 1 >= argc) {
        std::fprintf(stderr, "unknown option or missing value: %s\nusage: %s\n", arg.c_str(), usage);
        std::exit(2);
      }
      options_[arg.substr(2)] = argv[++i];
    }
  }

  /// The n-th positional argument, or `fallback`.
  std::string arg(std::size_t n, const std::string& fallback) const {
    return n < positional_.size() ? positional_[n] : fallback;
  }
  /// A numeric option, or `fallback` when absent.
  long long number(const std::string& name, long long fallback) const {
    const auto it = options_.find(name);
    return it == options_.end() ? fallback : std::atoll(it->second.c_str());
  }
  std::string text(const std::string& name, const std::string& fallback) const {
    const auto it = options_.find(name);
    return it == options_.end() ? fallback : it->second;
  }

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::string> options_;
};

}  // namespace examples
