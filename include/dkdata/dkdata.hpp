// dkdata/dkdata.hpp: the whole public API in one include.
#pragma once

#include "dkdata/aggregation.hpp"
#include "dkdata/config.hpp"
#include "dkdata/database.hpp"
#include "dkdata/diagnostics.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/factory.hpp"
#include "dkdata/json.hpp"
#include "dkdata/parquet.hpp"
#include "dkdata/query.hpp"
#include "dkdata/record.hpp"
#include "dkdata/value.hpp"
