/* SPDX-License-Identifier: MIT */
/* Placeholder so the layer builds; replaced by the TOML implementation. */
#include "skillmeat/toml.h"
