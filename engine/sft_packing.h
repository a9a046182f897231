/* Packed supervised (sft) rows, as LLaMA-Factory 0.9.5's PackedSupervisedDatasetProcessor
 * (llamafactory/data/processor/supervised.py) with greedy_knapsack (processor_utils.py) and
 * what its SFTDataCollatorWith4DAttentionMask (data/collator.py) hands the model.
 *
 * Upstream lowers cutoff_len by one when packing is on (hparams/data_args.py), so the examples
 * to pack are encoded with cutoff_len - 1 (hn_sft_data_build with that cutoff); examples still
 * longer than that are dropped ("Dropped lengthy example"). The rest are grouped by the greedy
 * knapsack over their lengths with capacity cutoff_len - 1, and each group becomes one row of
 * exactly cutoff_len tokens: its examples' input ids and labels one after another, in the
 * knapsack's order, then at least one pad (the tokenizer's pad id, else the template's eos, as
 * upstream's fix_special_tokens makes it) with label -100.
 *
 * Positions (both modes, as upstream's packed position_ids, which the collator passes to the
 * model as they are): 0 .. len-1 within each example, 0 for every pad.
 * Attention:
 * - packing: one causal attention over the whole row (doc_start NULL): upstream's attention
 *   mask is all ones, pads included, so each token also sees the earlier examples of its row.
 * - neat_packing: attention stays inside each example (doc_start[t] = the index of its
 *   example's first token), as upstream's block-diagonal 4D mask (prepare_4d_attention_mask
 *   with attention mask values 1, 2, ... per example). The trailing pads form one more document
 *   of their own (doc_start = the first pad's index); upstream lets a pad attend to nothing
 *   (attention mask 0). Pads have no labels and come after every example, so no trained token
 *   depends on them either way. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sft_data.h"

/* The groups of upstream's greedy_knapsack: repeatedly, a new bin takes the largest remaining
 * length that fits its remaining capacity until none fits. items[bin_start[b] ..
 * bin_start[b + 1]) are bin b's example indexes in the order taken; among equal lengths the
 * example appearing last in the input goes first (upstream's length2indexes[length].pop()).
 * Lengths above capacity are left out (upstream drops them before; its greedy_knapsack would
 * never end) and counted in n_too_long. */
typedef struct {
    size_t *items;     /* [n_items] */
    size_t *bin_start; /* [n_bins + 1] */
    size_t n_items, n_bins, n_too_long;
} hn_knapsack;

void hn_greedy_knapsack(const size_t *lengths, size_t n, size_t capacity, hn_knapsack *out);
void hn_knapsack_clear(hn_knapsack *knapsack);

/* Packs *in (examples encoded with cutoff_len - 1) into rows of cutoff_len as described above;
 * out's examples carry position_ids, and doc_start with neat. out->n_dropped counts the
 * lengthy examples (first_dropped says why), out->n_tokens every id of the rows, pads
 * included. */
hn_status hn_sft_pack(const hn_sft_data *in, int cutoff_len, bool neat, int32_t pad_id,
                      hn_sft_data *out, hn_error *err);
