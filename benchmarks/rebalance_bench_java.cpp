// rebalance_bench: the Java client's member kind. Its members are JVMs running
// benchmarks/java/RebalanceMember.java (compiled by benchmarks/CMakeLists.txt) with the member
// command line of MemberSpec::to_args(); this file finds what they need: the java launcher, the
// compiled class and the Kafka libs dir (kafka-clients and its dependencies).
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "rebalance_bench.hpp"

namespace asiokafka::bench {
namespace {

bool is_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool has_kafka_clients_jar(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  bool found = false;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("kafka-clients-", 0) == 0 && name.size() > 4 && name.compare(name.size() - 4, 4, ".jar") == 0) {
      found = true;
      break;
    }
  }
  closedir(d);
  return found;
}

}  // namespace

JavaPeer JavaPeer::defaults() {
  JavaPeer j;
#ifdef ASIOKAFKA_BENCH_JAVA_CLASSES
  j.classes = ASIOKAFKA_BENCH_JAVA_CLASSES;
#endif
  if (const char* env = std::getenv("ASIOKAFKA_KAFKA_LIBS"); env && *env) {
    j.libs = env;
  } else {
#ifdef ASIOKAFKA_BENCH_KAFKA_LIBS
    j.libs = ASIOKAFKA_BENCH_KAFKA_LIBS;
#endif
  }
  // The launcher: $JAVA_HOME/bin/java, else the first java on PATH (resolved here, since the
  // member is started with execv, without a PATH search).
  const char* home = std::getenv("JAVA_HOME");
  if (home && *home && access((std::string(home) + "/bin/java").c_str(), X_OK) == 0) {
    j.java = std::string(home) + "/bin/java";
  } else if (const char* path = std::getenv("PATH")) {
    const std::string all = path;
    for (std::size_t start = 0; start <= all.size();) {
      const std::size_t end = std::min(all.find(':', start), all.size());
      const std::string candidate = all.substr(start, end - start) + "/java";
      if (end > start && access(candidate.c_str(), X_OK) == 0) {
        j.java = candidate;
        break;
      }
      start = end + 1;
    }
  }
  return j;
}

std::string JavaPeer::unsupported() const {
  if (java.empty()) return "no java launcher (JAVA_HOME or PATH; or --java PATH)";
  if (classes.empty()) {
    return "RebalanceMember.class was not built (javac or the Kafka libs were missing at configure time; "
           "or --java-classes DIR)";
  }
  if (!is_file(classes + "/RebalanceMember.class")) return "no RebalanceMember.class in " + classes;
  if (libs.empty()) return "no Kafka libs dir (--java-libs DIR or ASIOKAFKA_KAFKA_LIBS)";
  if (!has_kafka_clients_jar(libs)) return "no kafka-clients-*.jar in " + libs;
  return "";
}

std::vector<std::string> JavaPeer::member_args(const MemberSpec& spec) const {
  std::vector<std::string> args{"-cp", classes + ":" + libs + "/*", "RebalanceMember"};
  const std::vector<std::string> rest = spec.to_args();
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

}  // namespace asiokafka::bench
