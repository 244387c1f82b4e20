-- Planner settings for the rest of a trace, local to the caller's transaction; returns the
-- previous values so planner_restore.sql can put them back.
--
-- Why: a trace is a chain of index probes from a known set of lots. On large data the planner
-- overestimates rows per lot (a few raw lots have thousands of rows) and picks parallel merge /
-- hash joins over whole tables, plus JIT compilation — measured here at 1.1 s against 0.1 s for
-- the nested-loop plan on the most-used raw lot. work_mem is raised so grouping tens of thousands
-- of shipment / ledger rows stays in memory instead of spilling a sort to disk. Parameters: none.
-- Output: jit, max_parallel_workers_per_gather, enable_mergejoin, work_mem (previous values).
SELECT current_setting('jit') AS jit,
       current_setting('max_parallel_workers_per_gather') AS max_parallel_workers_per_gather,
       current_setting('enable_mergejoin') AS enable_mergejoin,
       current_setting('work_mem') AS work_mem,
       set_config('jit', 'off', true) AS jit_now,
       set_config('max_parallel_workers_per_gather', '0', true) AS parallel_now,
       set_config('enable_mergejoin', 'off', true) AS mergejoin_now,
       set_config('work_mem', '64MB', true) AS work_mem_now
