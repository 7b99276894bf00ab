/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_TOML_TOMLI_H
#define SKILLMEAT_TOML_TOMLI_H

struct sm_toml_value;

/*
 * Reorder the keys of tab and of every table below it the way a document
 * written by tomli_w reads back: plain values (and inline tables, and arrays
 * tomli_w keeps inline) first, then [table] and [[array of tables]] sections,
 * each group keeping its order. Which arrays of tables stay inline follows
 * tomli_w's 100-column rule. Returns 0 or -ENOMEM (tab then unchanged at the
 * level that failed).
 */
int sm_toml_tomli_layout(struct sm_toml_value *tab);

#endif
