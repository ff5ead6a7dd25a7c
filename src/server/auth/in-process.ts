// Requests the server makes to its own API inside its process, on behalf of a user (the link's
// writes as a node: src/server/in-process-api.ts). The identity rides on the in-memory connection
// object the request arrives on, never on a credential: only code in this process that holds that
// object can act as the user, and nothing can be replayed or leaked. Authorization, admission and
// storage then treat the request as any other of that user.
import type { UserInfo } from './types.ts';

export class InProcessIdentities {
  private readonly users = new WeakMap<object, UserInfo>();

  /** Requests arriving on `connection` act as `user`. */
  bind(connection: object, user: UserInfo): void {
    this.users.set(connection, user);
  }

  userOf(connection: object): UserInfo | undefined {
    return this.users.get(connection);
  }
}
