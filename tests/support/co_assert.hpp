// ASSERT_* for test coroutines returning awaitable<bool>: records the failure and ends the body.
#pragma once

#include <gtest/gtest.h>

#define CO_ASSERT(cond)                             \
  do {                                              \
    if (!(cond)) {                                  \
      ADD_FAILURE() << "assertion failed: " #cond;  \
      co_return false;                              \
    }                                               \
  } while (false)
