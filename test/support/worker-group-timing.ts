/** The rebalancing test's worker groups (in the test's process and in worker-group-child.ts): 16 partitions in sets of 4, short leases and heartbeats, small checkpoints and frequent snapshots. */
export const GROUP_TIMING = {
  partitionCount: 16,
  setSize: 4,
  leaseTtlMs: 2000,
  beatMs: 200,
  membersTtlMs: 1000,
  snapshotEvents: 200,
  // (the test's events are historical: the workers catch up throughout, and checkpoint by count)
  engine: { tickMs: 50, catchUpCheckpointEvents: 100 },
} as const;
