/* SPDX-License-Identifier: MIT */
/* Placeholder so the layer builds. */
#include "skillmeat/toml.h"
