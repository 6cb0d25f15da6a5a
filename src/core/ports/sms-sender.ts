/** A text message as it left the shop. */
export interface SentSms {
  phone: string;
  text: string;
  sentAt: Date;
}

/** Sends text messages to phones (an SMS gateway). Rejects UNAVAILABLE when the message could not be handed over in time. */
export interface SmsSender {
  send(message: { phone: string; text: string }): Promise<void>;
}

/** The development sender keeps what it sends, so a person (or a test) can read the code. */
export interface SmsOutbox extends SmsSender {
  /** The newest messages to this phone first, at most `limit`. */
  sentTo(phone: string, limit: number): Promise<SentSms[]>;
}
