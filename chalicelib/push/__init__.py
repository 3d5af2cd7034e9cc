"""Push notifications: the sender interface, the Firebase (FCM v1) sender, fan-out batching."""
