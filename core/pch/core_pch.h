// Precompiled header of the core: LibTorch's C++ API is most of every compile.
#include <torch/torch.h>
