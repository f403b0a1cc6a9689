// For fault tests: brings a rig node back (resumed, answering; restarted if need be) when the
// test ends, whatever it did to it, so that one failure does not cascade into the next tests.
#pragma once

#include <chrono>

#include "asiokafka/probe.hpp"
#include "support/net_helpers.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {

struct RestoreNode {
  const RigNode& node;
  ~RestoreNode() {
    try {
      node.resume();
      ProbeOptions options;
      options.timeout = std::chrono::seconds(2);
      run_probe(node.listener("PLAINTEXT"), options, std::chrono::seconds(7));
    } catch (...) {
      try {
        node.start();
      } catch (...) {
      }
    }
  }
};

}  // namespace asiokafka::test
