//! E-mail delivery of breach notices over SMTP (lettre).
//!
//! Each delivery carries its outbox idempotency key as the Message-ID, so a message sent again
//! after a crash (between the server accepting it and art28 recording that) is recognisably the
//! same message. The connection is plain SMTP to a relay the operator names (typically a local
//! MTA that handles onward TLS); authentication and TLS to the relay are not yet offered.

use crate::incidents::Courier;
use art28_store::{DeliveryRecord, NoticeRecord};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Sends through one SMTP relay.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    relay: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for the relay at `host:port`, sending as `from` (`Name <address>`).
    pub fn new(relay: &str, from: &str) -> art28_core::Result<Self> {
        let bad = |m: String| art28_core::Error::new(art28_core::ErrorCode::ConfigInvalid, m);
        let (host, port) = relay
            .rsplit_once(':')
            .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_string(), p)))
            .ok_or_else(|| bad(format!("smtp_relay `{relay}` is not host:port")))?;
        let from: Mailbox = from
            .parse()
            .map_err(|e| bad(format!("mail_from `{from}` is not an address: {e}")))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Self {
            transport,
            from,
            relay: relay.to_string(),
        })
    }
}

#[async_trait::async_trait]
impl Courier for SmtpMailer {
    fn channel(&self) -> &'static str {
        "email"
    }

    async fn send(&self, d: &DeliveryRecord, n: &NoticeRecord) -> Result<(), String> {
        let to: Mailbox = d
            .recipient
            .parse()
            .map_err(|e| format!("recipient is not an address: {e}"))?;
        let domain = self.from.email.domain().to_string();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(n.subject.clone())
            .message_id(Some(format!("<{}@{domain}>", d.idempotency_key)))
            .header(ContentType::TEXT_PLAIN)
            .body(n.body.clone())
            .map_err(|e| format!("message not built: {e}"))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            tracing::warn!(relay = %self.relay, error = %e, "SMTP delivery failed");
            "the mail relay did not accept the message".to_string()
        })
    }
}
