"""Call quality: the versioned scorecard evaluator and the funnel summary over rollup counters."""
