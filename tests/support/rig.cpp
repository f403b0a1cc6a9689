#include "support/rig.hpp"

#include "net/sansio/address.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace asiokafka::test {

bool rig_required() {
  const char* v = std::getenv("ASIOKAFKA_REQUIRE_RIG");
  return v != nullptr && std::string(v) == "1";
}

std::optional<Rig> Rig::from_env(const char* env_var) {
  const char* path = std::getenv(env_var);
  if (path == nullptr || *path == '\0') return std::nullopt;
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("cannot read rig file ") + path);
  std::map<std::string, std::string> vars;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw std::runtime_error("bad line in " + std::string(path) + ": " + line);
    vars[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return Rig(std::move(vars));
}

const std::string& Rig::get(const std::string& key) const {
  const auto it = vars_.find(key);
  if (it == vars_.end()) throw std::out_of_range("rig.env has no " + key);
  return it->second;
}

HostPort split_host_port(const std::string& address) {
  std::string why;
  auto parsed = net::parse_host_port(address, 0, why);
  if (!parsed || parsed->port == 0) throw std::invalid_argument("'" + address + "' is not host:port " + why);
  return std::move(*parsed);
}

int Rig::node_count() const { return std::stoi(get("NODES")); }

std::string RigNode::listener(const std::string& name) const {
  return rig_->get("NODE" + std::to_string(id_) + "_" + name);
}

int RigNode::pid() const {
  std::ifstream in(rig_->get("NODE" + std::to_string(id_) + "_PID_FILE"));
  int pid = 0;
  if (!(in >> pid)) throw std::runtime_error("node " + std::to_string(id_) + " has no pid file");
  return pid;
}

void RigNode::control(const std::string& action) const {
  // kafkarig.py owns process control: it checks the pid is the node it started, and `start`
  // returns only when the node answers a real request.
  const std::string cmd = "python3 '" + rig_->get("RIG_TOOL") + "' node --dir '" + rig_->get("RIG_DIR") +
                          "' --node " + std::to_string(id_) + " " + action;
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("rig command failed: " + cmd);
}

void RigNode::stop() const { control("stop"); }
void RigNode::kill() const { control("kill"); }
void RigNode::start() const { control("start"); }
void RigNode::pause() const { control("pause"); }
void RigNode::resume() const { control("resume"); }

}  // namespace asiokafka::test
