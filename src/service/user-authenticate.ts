/**
 * The UserAuthenticate digest flow (macOS network users): the first request (no
 * `DigestResponse`) is answered with a challenge, a decline (410), or an empty challenge
 * meaning "no token needed"; the second with an `AuthToken` (empty = bad password).
 * @see https://developer.apple.com/documentation/devicemanagement/userauthenticaterequest
 */
import type { UserAuthenticateMessage } from '../protocol/checkin.js';
import { encodePlist } from '../protocol/plist.js';
import type { MdmRequest, MdmResponse } from './ports.js';

/** What a policy decides for the first UserAuthenticate of a login. */
export type UserAuthenticateDecision =
  | { decline: true }
  | {
      decline?: false;
      /** Empty string: the user is managed without a token. */ challenge: string;
    };

/** Policy hooks for UserAuthenticate; every hook is optional. */
export interface UserAuthenticatePolicy {
  /** First request: decline the user (410) or send a digest challenge. Default: empty challenge. */
  decide?(req: MdmRequest, msg: UserAuthenticateMessage): Promise<UserAuthenticateDecision>;
  /** Second request: the `AuthToken` for a valid `DigestResponse`, or `''` for a bad one. Default: `''`. */
  verify?(
    req: MdmRequest,
    msg: UserAuthenticateMessage & { DigestResponse: string },
  ): Promise<string>;
}

/** Outcome of {@link answerUserAuthenticate}: the response and whether the user was declined. */
export interface UserAuthenticateOutcome {
  response: MdmResponse;
  declined: boolean;
  /** True on the second request (the exchange finished). */
  finished: boolean;
}

const XML = 'application/xml';

/** Answers one UserAuthenticate request under the policy; hooks' errors propagate. */
export async function answerUserAuthenticate(
  policy: UserAuthenticatePolicy,
  req: MdmRequest,
  msg: UserAuthenticateMessage,
): Promise<UserAuthenticateOutcome> {
  const digest = msg.DigestResponse;
  if (digest === undefined) {
    const decision = (await policy.decide?.(req, msg)) ?? { challenge: '' };
    if (decision.decline === true) {
      return { response: { status: 410 }, declined: true, finished: true };
    }
    const body = encodePlist({ DigestChallenge: decision.challenge }, { format: 'xml' });
    return {
      response: { status: 200, body, contentType: XML },
      declined: false,
      finished: decision.challenge === '',
    };
  }
  const token = (await policy.verify?.(req, { ...msg, DigestResponse: digest })) ?? '';
  const body = encodePlist({ AuthToken: token }, { format: 'xml' });
  return {
    response: { status: 200, body, contentType: XML },
    declined: token === '',
    finished: true,
  };
}
