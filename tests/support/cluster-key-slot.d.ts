// cluster-key-slot ships no types; it is the CRC16 slot function ioredis itself routes with.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0-16383) of `key`, honouring a non-empty `{hash tag}`. */
  function generate(key: string | Buffer): number;
  export default generate;
}
