"""framelab: message-framing experiments for advocacy campaigns."""
