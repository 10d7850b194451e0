// The IPVS table as data, and the narrow interface through which the checker reads and writes the
// kernel's. How the kernel is reached (ipvsadm today) is src/ipvs/ipvsadm.ts's business alone.
import { serviceKey, type ServiceId } from './service';

export type Forward = 'gate' | 'masq' | 'ipip';

export interface ServiceSpec {
  id: ServiceId;
  scheduler: string;
  /** Persistence timeout in seconds; undefined = not persistent. */
  persistent?: number;
  /** Persistence netmask (dotted quad, or an IPv6 prefix length); only meaningful with persistent. */
  netmask?: string;
  /** Scheduler flags as ipvsadm -b takes them, e.g. "sh-fallback,sh-port". */
  schedflags?: string;
  ops: boolean;
}

export interface DestSpec {
  /** "198.51.100.21:80", "[2001:db8::21]:80" (src/ipvs/service.ts endpoint()). */
  target: string;
  forward: Forward;
  weight: number;
  uthreshold: number;
  lthreshold: number;
}

export interface DestState extends DestSpec {
  activeConns: number;
  inactConns: number;
}

export interface ServiceEntry<D extends DestSpec = DestSpec> {
  spec: ServiceSpec;
  dests: Map<string, D>;
}

/** Services by serviceKey(id). */
export type Table<D extends DestSpec = DestSpec> = Map<string, ServiceEntry<D>>;

export type TableChange =
  | { op: 'add-service' | 'edit-service'; service: ServiceSpec }
  | { op: 'delete-service'; id: ServiceId }
  | { op: 'add-dest' | 'edit-dest'; id: ServiceId; dest: DestSpec }
  | { op: 'delete-dest'; id: ServiceId; target: string };

export interface ApplyReport {
  /** Changes the kernel refused, with its message; empty when all applied. */
  errors: string[];
}

/** The narrow interface between the checker and the kernel. */
export interface IpvsBackend {
  /** `full` asks for connection counts too (slow start needs them); a cheaper read may leave them 0. */
  read(full?: boolean): Promise<Table<DestState>>;
  apply(changes: TableChange[]): Promise<ApplyReport>;
}

/**
 * The table after these changes applied without error: what a writer knows the kernel holds without
 * reading it again. A dest added or edited keeps the connection counts it had (0 when new).
 */
export function applyChanges(table: Table<DestState>, changes: TableChange[]): Table<DestState> {
  const out: Table<DestState> = new Map([...table].map(([k, e]) => [k, { spec: e.spec, dests: new Map(e.dests) }]));
  for (const c of changes) {
    if (c.op === 'add-service' || c.op === 'edit-service') {
      const k = serviceKey(c.service.id);
      out.set(k, { spec: c.service, dests: out.get(k)?.dests ?? new Map() });
    } else if (c.op === 'delete-service') out.delete(serviceKey(c.id));
    else if (c.op === 'delete-dest') out.get(serviceKey(c.id))?.dests.delete(c.target);
    else if (c.op === 'add-dest' || c.op === 'edit-dest') {
      const dests = out.get(serviceKey(c.id))?.dests;
      const had = dests?.get(c.dest.target);
      dests?.set(c.dest.target, { ...c.dest, activeConns: had?.activeConns ?? 0, inactConns: had?.inactConns ?? 0 });
    }
  }
  return out;
}
