import { type ChannelSecret, zChannelSecret } from "../../../core/alerts/channel";
import { invalid } from "../../errors";
import { open, parseSecretKey, SealedValueError, SecretKeyError, seal } from "../gateway-ssh/secret-box";
import { alertDeps } from "./deps";

/**
 * A channel's secrets (webhook URL, SMTP password) sealed with GATEHOUSE_SECRET_KEY, bound to the
 * channel's id so a sealed value copied onto another channel does not open.
 */

const context = (channelId: string) => `gatehouse/alert-channel/${channelId}`;

function secretKey(): Buffer {
  const text = alertDeps().secretKeyText();
  if (text === undefined || text.trim() === "") {
    throw invalid(
      "The console cannot keep alert channel secrets (webhook URLs, SMTP passwords): GATEHOUSE_SECRET_KEY is not set. " +
        "Set it to 32 random bytes (e.g. the output of `openssl rand -hex 32`) and restart the console.",
    );
  }
  try {
    return parseSecretKey(text);
  } catch (e) {
    if (e instanceof SecretKeyError) throw invalid(`The console's ${e.message}.`);
    throw e;
  }
}

export function sealChannelSecret(channelId: string, secret: ChannelSecret): string {
  return seal(secretKey(), JSON.stringify(secret), context(channelId));
}

/** The channel's secrets; throws an Error whose message says why they cannot be opened. */
export function openChannelSecret(channelId: string, sealed: string): ChannelSecret {
  try {
    return zChannelSecret.parse(JSON.parse(open(secretKey(), sealed, context(channelId))));
  } catch (e) {
    if (e instanceof SealedValueError) throw new Error(`the channel's ${e.message.replace("credentials", "secrets")}`);
    throw e;
  }
}
