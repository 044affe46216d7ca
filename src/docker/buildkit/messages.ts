// The wire format of the session: fsutil.types.Packet and Stat (tonistiigi/fsutil types/wire.proto,
// types/stat.proto) and grpc.health.v1, encoded with protobufjs reflection (no .proto file is read at run
// time). Stat's path and linkname are proto strings, declared bytes here (the same wire type) so that a
// name that is not UTF-8 keeps its bytes, as Go's strings do.
import type { MethodDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

export interface Packet {
  type?: number;
  stat?: Record<string, unknown>;
  ID?: number;
  data?: Uint8Array;
}

export const PACKET_STAT = 0;
export const PACKET_REQ = 1;
export const PACKET_DATA = 2;
export const PACKET_FIN = 3;
export const PACKET_ERR = 4;
export const SERVING = 1;
let types: { Packet: protobuf.Type; HealthCheckRequest: protobuf.Type; HealthCheckResponse: protobuf.Type } | undefined;

export function messageTypes(): NonNullable<typeof types> {
  if (types) return types;
  const root = protobuf.Root.fromJSON({
    nested: {
      fsutil: {
        nested: {
          types: {
            nested: {
              Stat: {
                fields: {
                  path: { type: 'bytes', id: 1 },
                  mode: { type: 'uint32', id: 2 },
                  uid: { type: 'uint32', id: 3 },
                  gid: { type: 'uint32', id: 4 },
                  size: { type: 'int64', id: 5 },
                  modTime: { type: 'int64', id: 6 },
                  linkname: { type: 'bytes', id: 7 },
                  devmajor: { type: 'int64', id: 8 },
                  devminor: { type: 'int64', id: 9 },
                  // xattrs (10) are not sent: Node cannot read them.
                },
              },
              Packet: {
                fields: {
                  type: { type: 'PacketType', id: 1 },
                  stat: { type: 'Stat', id: 2 },
                  ID: { type: 'uint32', id: 3 },
                  data: { type: 'bytes', id: 4 },
                },
                nested: {
                  PacketType: { values: { PACKET_STAT, PACKET_REQ, PACKET_DATA, PACKET_FIN, PACKET_ERR } },
                },
              },
            },
          },
        },
      },
      grpc: {
        nested: {
          health: {
            nested: {
              v1: {
                nested: {
                  HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
                  HealthCheckResponse: {
                    fields: { status: { type: 'ServingStatus', id: 1 } },
                    nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
                  },
                },
              },
            },
          },
        },
      },
    },
  });
  types = {
    Packet: root.lookupType('fsutil.types.Packet'),
    HealthCheckRequest: root.lookupType('grpc.health.v1.HealthCheckRequest'),
    HealthCheckResponse: root.lookupType('grpc.health.v1.HealthCheckResponse'),
  };
  return types;
}

export function methodDefinition<Req, Res>(
  methodPath: string,
  request: protobuf.Type,
  response: protobuf.Type,
  requestStream: boolean,
  responseStream: boolean,
): MethodDefinition<Req, Res> {
  const encode = (type: protobuf.Type) => (value: unknown) => Buffer.from(type.encode(value as Record<string, unknown>).finish());
  const decode = (type: protobuf.Type) => (bytes: Buffer) => type.decode(bytes) as unknown;
  return {
    path: methodPath,
    requestStream,
    responseStream,
    requestSerialize: encode(request),
    requestDeserialize: decode(request) as (bytes: Buffer) => Req,
    responseSerialize: encode(response),
    responseDeserialize: decode(response) as (bytes: Buffer) => Res,
  };
}

/** A 64-bit integer as protobufjs writes it without the long package: two 32-bit halves. */
export function int64(value: bigint): { low: number; high: number; unsigned: boolean } {
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false };
}
