#include "skillmeat/toml.h"
