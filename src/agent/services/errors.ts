import { EdgeosError } from '../../common/errors.ts';

/** The Service datapath's errors: the SERVICES_* codes of src/common/error-codes.ts. */
export class ServicesError extends EdgeosError {}
