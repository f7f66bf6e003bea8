"""Long-running services (call records, callback dialler, keeper), the processes that run
them and the composition root that wires the hotline from settings. Must not import the
CLI (hotline/) or console/."""
