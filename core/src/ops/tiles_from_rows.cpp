// tiles_from_rows: checks and device dispatch.
#include "prn/ops/tiles_from_rows.h"

#include "tiles_from_rows_kernels.h"

namespace prn::ops {
namespace {

void check_inputs(const at::Tensor &rows, prn::stream::PixelFormat format, int64_t width, const at::Tensor &origins,
                  int64_t tile, int64_t size) {
  TORCH_CHECK(rows.defined() && origins.defined(), "tiles_from_rows: expected defined rows and origins");
  TORCH_CHECK(rows.dim() == 2 && rows.scalar_type() == at::kByte,
              "tiles_from_rows: expected rows as a (R, row_bytes) uint8 tensor, got ", rows.sizes(), " ",
              rows.scalar_type());
  TORCH_CHECK(rows.size(0) >= 1, "tiles_from_rows: expected at least one row, got ", rows.sizes());
  TORCH_CHECK(width >= 1, "tiles_from_rows: expected a width of at least 1 pixel, got ", width);
  const int64_t bytes = width * prn::stream::bytes_per_pixel(format);
  TORCH_CHECK(rows.size(1) >= bytes, "tiles_from_rows: expected rows of at least ", bytes, " bytes (", width, " ",
              prn::stream::pixel_format_name(format), " pixels), got ", rows.size(1));
  TORCH_CHECK(origins.dim() == 2 && origins.size(1) == 2 && origins.scalar_type() == at::kLong,
              "tiles_from_rows: expected origins as an (N, 2) int64 tensor of (row, column), got ", origins.sizes(),
              " ", origins.scalar_type());
  TORCH_CHECK(origins.device() == rows.device(), "tiles_from_rows: expected origins on the rows' device ",
              rows.device(), ", got ", origins.device());
  TORCH_CHECK(tile >= 1, "tiles_from_rows: expected a tile side of at least 1 pixel, got ", tile);
  TORCH_CHECK(size >= 1, "tiles_from_rows: expected a model input side of at least 1 pixel, got ", size);
  TORCH_CHECK(rows.is_cpu() || rows.is_cuda(), "tiles_from_rows: expected rows on the CPU or a CUDA device, got ",
              rows.device());
}

} // namespace

at::Tensor tiles_from_rows(const at::Tensor &rows, prn::stream::PixelFormat format, int64_t width,
                           const at::Tensor &origins, int64_t tile, int64_t size) {
  check_inputs(rows, format, width, origins, tile, size);
  const detail::PackedLayout layout = detail::packed_layout_of(format);
  if (origins.size(0) == 0)
    return at::empty({0, 3, size, size}, rows.options().dtype(at::kFloat));
  if (rows.is_cpu())
    return detail::tiles_from_rows_cpu(rows.contiguous(), layout, width, origins.contiguous(), tile, size);
#if PRN_WITH_CUDA
  return detail::tiles_from_rows_cuda(rows.contiguous(), layout, width, origins.contiguous(), tile, size);
#else
  TORCH_CHECK(false, "tiles_from_rows: expected rows on the CPU in a build without the CUDA kernels (-Dcuda), got ",
              rows.device());
#endif
}

bool tile_ops_have_cuda() { return PRN_WITH_CUDA != 0; }

} // namespace prn::ops
