// GEMM block sizes, one table row per (instruction set, dtype). The loops read them from here;
// nothing inside a loop is a magic number.
//
//   mr x nr  register tile of C held in the micro-kernel (nr = vectors per row x vector width)
//   kc       depth of one packed panel: an mr x kc sliver of A stays in L1 while the kernel walks
//            the nr-wide slivers of B
//   nc       width of the packed kc x nc block of B, sized to stay in L2 (kc * nc * sizeof(T))
//   mc       rows of A packed at once (an L3-sized block): B is packed again for every mc rows,
//            so a large mc packs each operand about once
#pragma once

namespace mlpcore {

struct GemmBlocking {
    int mr, nr, mc, kc, nc;
};

namespace gemm_config {
//                                        mr  nr   mc   kc    nc
inline constexpr GemmBlocking avx512_f32{12, 32, 1032, 256, 512};
inline constexpr GemmBlocking avx512_f64{12, 16, 1032, 256, 256};
inline constexpr GemmBlocking avx2_f32{6, 16, 1032, 256, 512};
inline constexpr GemmBlocking avx2_f64{6, 8, 1032, 256, 256};
inline constexpr GemmBlocking generic_f32{4, 8, 1024, 256, 512};
inline constexpr GemmBlocking generic_f64{4, 4, 1024, 256, 256};

// Few-row products (a single sample through a layer, m = 1) would waste most of an mr-row tile:
// for m <= 4 the same loops run with one of these smaller tiles (gemm.cpp picks the one that
// pads least). A widened tile is up to 4x wider, as long as it needs no more accumulator
// registers than the standard tile, so each kernel step reads a longer contiguous run of B.
struct SmallTile {
    int mr;
    bool widen;
};
inline constexpr SmallTile kSmallTiles[] = {{1, false}, {1, true}, {2, true}, {4, true}};
inline constexpr int kNumSmallTiles = static_cast<int>(sizeof kSmallTiles / sizeof kSmallTiles[0]);

constexpr GemmBlocking small_tile_blocking(GemmBlocking b, SmallTile tile) {
    int widen = 1;
    while (tile.widen && widen * 2 <= 4 && widen * 2 * tile.mr <= b.mr) widen *= 2;
    // A 1-row product streams B once from memory: a shallower kc keeps the kc x nc block of B
    // that the kernel walks sliver by sliver inside L2.
    const int kc = tile.mr == 1 ? b.kc / 4 : b.kc;
    return GemmBlocking{tile.mr, b.nr * widen, b.mc / tile.mr * tile.mr, kc, b.nc};
}
}  // namespace gemm_config

}  // namespace mlpcore
