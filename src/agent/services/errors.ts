import { EdgeosError } from '../../common/errors.ts';

/**
 * The Service datapath's errors. Codes: SERVICES_TOOL_MISSING (nft, ip or conntrack is not
 * installed), SERVICES_NFT_REFUSED (the kernel refused a transaction; the last good table stays),
 * SERVICES_HOST_NETWORK (the node-local DNS address or the Service CIDR route could not be set).
 */
export class ServicesError extends EdgeosError {}
