// prn-train --preview: the training batches as a person checks them by eye.
#pragma once

#include "train/batcher.h"

#include <string>

namespace prn::train {

// Writes a PNG grid of the batch, two samples per row, each as image (captioned
// with its number and kind) | mask | image with the mask in heat colours and
// its outline in white. Atomic; throws prn::Error naming the file on failure.
void write_batch_preview(const std::string &png, const Batch &batch);

} // namespace prn::train
