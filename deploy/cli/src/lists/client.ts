// risk's ScreeningListService over grpc-js, loaded only when a `custody list` command talks to
// risk. The operator is authenticated by risk from the mTLS client certificate (subject CN).
import {
  ScreeningListServiceClient,
  type GetListStatusResponse,
  type ImportInternalEntriesRequest,
  type ImportInternalEntriesResponse,
  type ImportOfacListRequest,
  type ImportOfacListResponse,
} from '@custody/contracts';
import { channelCredentials, unaryCaller } from '../service-client.js';
import { formatTarget, type ServerAddress, type Transport } from '../approvals/transport.js';

export interface ScreeningListApi {
  importEntries(req: ImportInternalEntriesRequest): Promise<ImportInternalEntriesResponse>;
  importOfac(req: ImportOfacListRequest): Promise<ImportOfacListResponse>;
  status(): Promise<GetListStatusResponse>;
  close(): void;
}

export function connectScreeningLists(address: ServerAddress, transport: Transport, timeoutMs: number): ScreeningListApi {
  const target = formatTarget(address);
  const client = new ScreeningListServiceClient(target, channelCredentials(transport));
  const unary = unaryCaller(client, target, timeoutMs);
  return {
    importEntries: (req) => unary('importInternalEntries', req),
    importOfac: (req) => unary('importOfacList', req),
    status: () => unary('getListStatus', {}),
    close: () => client.close(),
  };
}
