// Precompiled header of the tests.
#include <gtest/gtest.h>
#include <torch/torch.h>
