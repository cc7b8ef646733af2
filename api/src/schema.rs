//! Diesel table definitions, written by hand to match `migrations/{sqlite,postgres}`.
//! Only SQL types both backends share are used (Text, BigInt, Integer, Bool, Timestamp).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        first_name -> Text,
        last_name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        email_verified_at -> Nullable<Timestamp>,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        totp_secret -> Nullable<Text>,
        totp_pending -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        product_type -> Text,
        description -> Text,
        features -> Text,
        featured -> Bool,
        active -> Bool,
        sort_order -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        group_id -> Nullable<Text>,
        hidden -> Bool,
        requires_domain -> Bool,
        stock -> Nullable<BigInt>,
        module -> Nullable<Text>,
        package -> Nullable<Text>,
    }
}

diesel::table! {
    product_prices (product_id, cycle, currency) {
        product_id -> Text,
        cycle -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        setup_fee_minor -> BigInt,
        renewal_minor -> Nullable<BigInt>,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(product_prices -> products (product_id));

diesel::allow_tables_to_appear_in_same_query!(users, sessions, refresh_tokens, products, product_prices, settings);

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        payload -> Text,
        queue -> Text,
        state -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        last_error -> Nullable<Text>,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        unique_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    scheduled_tasks (name) {
        name -> Text,
        cron -> Text,
        enabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    task_runs (id) {
        id -> Text,
        task -> Text,
        period -> Timestamp,
        job_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    emails (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        to_addr -> Text,
        template -> Text,
        category -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        message_id -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        sealed_body -> Nullable<Text>,
    }
}

diesel::table! {
    email_templates (key) {
        key -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    email_unsubscribes (email) {
        email -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(task_runs -> scheduled_tasks (task));
diesel::joinable!(emails -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(jobs, scheduled_tasks, task_runs, emails, email_templates, email_unsubscribes, users);

diesel::table! {
    user_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rate_limits (key, window_start) {
        key -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        actor_id -> Nullable<Text>,
        account_id -> Nullable<Text>,
        action -> Text,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        details -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(user_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(user_tokens, rate_limits, audit_log, users);

diesel::table! {
    api_keys (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        prefix -> Text,
        secret_hash -> Text,
        scopes -> Text,
        allowed_ips -> Text,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(api_keys -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(api_keys, users);

diesel::table! {
    recovery_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(recovery_codes -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(recovery_codes, users);

diesel::table! {
    mfa_challenges (id) {
        id -> Text,
        user_id -> Text,
        attempts -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(mfa_challenges -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(mfa_challenges, users);

diesel::table! {
    trusted_devices (id) {
        id -> Text,
        user_id -> Text,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
    }
}

diesel::joinable!(trusted_devices -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(trusted_devices, users);

diesel::table! {
    client_profiles (user_id) {
        user_id -> Text,
        company -> Nullable<Text>,
        phone -> Nullable<Text>,
        address -> Nullable<Text>,
        billing_address -> Nullable<Text>,
        tax_id -> Nullable<Text>,
        currency -> Text,
        language -> Text,
        deletion_requested_at -> Nullable<Timestamp>,
        anonymised_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        tax_exempt -> Bool,
    }
}

diesel::joinable!(client_profiles -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(client_profiles, users);

diesel::table! {
    staff_members (user_id) {
        user_id -> Text,
        permissions -> Text,
        disabled_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    account_members (id) {
        id -> Text,
        account_id -> Text,
        email -> Text,
        user_id -> Nullable<Text>,
        permissions -> Text,
        token_hash -> Nullable<Text>,
        invited_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(staff_members -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(staff_members, users);
diesel::allow_tables_to_appear_in_same_query!(account_members, users);

diesel::table! {
    client_search (user_id, term) {
        user_id -> Text,
        term -> Text,
    }
}

diesel::joinable!(client_search -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(client_search, users);

diesel::table! {
    currencies (code) {
        code -> Text,
        rate_micros -> BigInt,
        is_default -> Bool,
        sort_order -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    product_groups (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        description -> Text,
        visible -> Bool,
        sort_order -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    config_options (id) {
        id -> Text,
        product_id -> Text,
        name -> Text,
        kind -> Text,
        hidden -> Bool,
        min_units -> BigInt,
        max_units -> BigInt,
        step -> BigInt,
        unit -> Text,
        sort_order -> Integer,
    }
}

diesel::table! {
    config_option_values (id) {
        id -> Text,
        option_id -> Text,
        label -> Text,
        sort_order -> Integer,
    }
}

diesel::table! {
    config_value_prices (value_id, cycle, currency) {
        value_id -> Text,
        cycle -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        setup_fee_minor -> BigInt,
        renewal_minor -> Nullable<BigInt>,
    }
}

diesel::table! {
    addons (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        description -> Text,
        active -> Bool,
        sort_order -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    addon_prices (addon_id, cycle, currency) {
        addon_id -> Text,
        cycle -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        setup_fee_minor -> BigInt,
        renewal_minor -> Nullable<BigInt>,
    }
}

diesel::table! {
    product_addons (product_id, addon_id) {
        product_id -> Text,
        addon_id -> Text,
    }
}

diesel::table! {
    tax_rules (id) {
        id -> Text,
        country -> Text,
        state -> Text,
        name -> Text,
        rate_bp -> Integer,
        level -> Integer,
        compound -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    promo_codes (id) {
        id -> Text,
        code -> Text,
        kind -> Text,
        value -> BigInt,
        currency -> Nullable<Text>,
        duration -> Text,
        duration_cycles -> Nullable<Integer>,
        product_ids -> Text,
        cycles -> Text,
        addon_ids -> Text,
        starts_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        max_uses -> Nullable<Integer>,
        uses -> Integer,
        once_per_client -> Bool,
        new_clients_only -> Bool,
        min_order_minor -> Nullable<BigInt>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        stackable -> Bool,
    }
}

diesel::table! {
    carts (user_id) {
        user_id -> Text,
        body -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    vat_checks (vat_id) {
        vat_id -> Text,
        valid -> Bool,
        name -> Nullable<Text>,
        checked_at -> Timestamp,
    }
}

diesel::joinable!(products -> product_groups (group_id));
diesel::joinable!(config_options -> products (product_id));
diesel::joinable!(config_option_values -> config_options (option_id));
diesel::joinable!(config_value_prices -> config_option_values (value_id));
diesel::joinable!(addon_prices -> addons (addon_id));
diesel::joinable!(product_addons -> products (product_id));
diesel::joinable!(product_addons -> addons (addon_id));
diesel::allow_tables_to_appear_in_same_query!(
    products,
    product_groups,
    config_options,
    config_option_values,
    config_value_prices,
    addons,
    addon_prices,
    product_addons
);

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        number -> Text,
        account_id -> Text,
        placed_by -> Text,
        status -> Text,
        currency -> Text,
        subtotal_minor -> BigInt,
        discount_minor -> BigInt,
        tax_minor -> BigInt,
        total_minor -> BigInt,
        tax_lines -> Text,
        tax_inclusive -> Bool,
        reverse_charge -> Bool,
        promo_code -> Nullable<Text>,
        fraud_reasons -> Text,
        cancel_reason -> Nullable<Text>,
        ip -> Nullable<Text>,
        idempotency_key -> Text,
        request_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    order_items (id) {
        id -> Text,
        order_id -> Text,
        line_no -> Integer,
        product_id -> Text,
        product_name -> Text,
        cycle -> Text,
        quantity -> Integer,
        items -> Text,
        subtotal_minor -> BigInt,
        discount_minor -> BigInt,
        tax_minor -> BigInt,
        total_minor -> BigInt,
        renewal_minor -> BigInt,
        config -> Text,
        domain -> Nullable<Text>,
    }
}

diesel::table! {
    services (id) {
        id -> Text,
        account_id -> Text,
        order_id -> Text,
        order_item_id -> Text,
        product_id -> Text,
        status -> Text,
        cycle -> Text,
        currency -> Text,
        first_minor -> BigInt,
        recurring_minor -> BigInt,
        domain -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        server_id -> Nullable<Text>,
        package -> Nullable<Text>,
        username -> Nullable<Text>,
        secret_sealed -> Nullable<Text>,
        ip -> Nullable<Text>,
        anchor_on -> Nullable<Date>,
        next_due_on -> Nullable<Date>,
        suspend_reason -> Nullable<Text>,
        last_error -> Nullable<Text>,
        cancel_when -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        activated_at -> Nullable<Timestamp>,
        terminated_at -> Nullable<Timestamp>,
        plan_name -> Nullable<Text>,
        config -> Nullable<Text>,
        items -> Nullable<Text>,
        period_paid_minor -> Nullable<BigInt>,
        next_invoice_on -> Nullable<Date>,
    }
}

diesel::table! {
    service_changes (id) {
        id -> Text,
        service_id -> Text,
        account_id -> Text,
        status -> Text,
        settlement -> Text,
        to_product_id -> Text,
        to_config -> Text,
        to_items -> Text,
        to_recurring_minor -> BigInt,
        quote -> Text,
        invoice_id -> Nullable<Text>,
        effective_on -> Nullable<Date>,
        created_at -> Timestamp,
        applied_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    promo_uses (promo_id, order_id) {
        promo_id -> Text,
        order_id -> Text,
        account_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(order_items -> orders (order_id));
diesel::joinable!(services -> orders (order_id));
diesel::joinable!(orders -> users (account_id));
diesel::allow_tables_to_appear_in_same_query!(orders, order_items, services, promo_uses, users);

diesel::table! {
    invoices (id) {
        id -> Text,
        number -> Nullable<Text>,
        account_id -> Text,
        order_id -> Nullable<Text>,
        kind -> Text,
        status -> Text,
        currency -> Text,
        subtotal_minor -> BigInt,
        discount_minor -> BigInt,
        tax_minor -> BigInt,
        total_minor -> BigInt,
        paid_minor -> BigInt,
        tax_lines -> Text,
        tax_inclusive -> Bool,
        reverse_charge -> Bool,
        seller -> Text,
        buyer -> Text,
        buyer_name -> Text,
        payment_instructions -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        merged_into -> Nullable<Text>,
        issued_at -> Nullable<Timestamp>,
        due_on -> Date,
        paid_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        autocharged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invoice_lines (id) {
        id -> Text,
        invoice_id -> Text,
        line_no -> Integer,
        description -> Text,
        service_id -> Nullable<Text>,
        period_from -> Nullable<Date>,
        period_to -> Nullable<Date>,
        quantity -> Integer,
        unit_minor -> BigInt,
        discount_minor -> BigInt,
        tax_minor -> BigInt,
        total_minor -> BigInt,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        invoice_id -> Text,
        account_id -> Text,
        gateway -> Text,
        external_id -> Nullable<Text>,
        reference -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        refund_of -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    credit_notes (id) {
        id -> Text,
        number -> Text,
        invoice_id -> Text,
        account_id -> Text,
        payment_id -> Nullable<Text>,
        currency -> Text,
        amount_minor -> BigInt,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    credit_entries (id) {
        id -> Text,
        account_id -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        reason -> Text,
        invoice_id -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    credit_balances (account_id, currency) {
        account_id -> Text,
        currency -> Text,
        balance_minor -> BigInt,
    }
}

diesel::table! {
    payment_events (id) {
        id -> Text,
        gateway -> Text,
        event_id -> Nullable<Text>,
        event_type -> Text,
        verified -> Bool,
        outcome -> Text,
        detail -> Text,
        invoice_id -> Nullable<Text>,
        body -> Text,
        received_at -> Timestamp,
    }
}

diesel::joinable!(invoice_lines -> invoices (invoice_id));
diesel::joinable!(payments -> invoices (invoice_id));
diesel::joinable!(invoices -> users (account_id));
diesel::allow_tables_to_appear_in_same_query!(invoices, invoice_lines, payments, credit_entries, payment_events, credit_notes);
diesel::allow_tables_to_appear_in_same_query!(invoices, users);
diesel::allow_tables_to_appear_in_same_query!(invoices, orders);

diesel::table! {
    idempotency_keys (account_id, key) {
        account_id -> Text,
        key -> Text,
        request -> Text,
        request_hash -> Text,
        status -> Nullable<Integer>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    gateway_checkouts (gateway, checkout_id) {
        gateway -> Text,
        checkout_id -> Text,
        invoice_id -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_attachments (email_id, line_no) {
        email_id -> Text,
        line_no -> Integer,
        name -> Text,
        content_type -> Text,
        content -> Binary,
    }
}

diesel::joinable!(email_attachments -> emails (email_id));
diesel::allow_tables_to_appear_in_same_query!(email_attachments, emails);

diesel::table! {
    gateway_customers (account_id, gateway) {
        account_id -> Text,
        gateway -> Text,
        customer_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payment_methods (id) {
        id -> Text,
        account_id -> Text,
        gateway -> Text,
        customer_id -> Text,
        method_id -> Text,
        brand -> Text,
        last4 -> Text,
        exp_month -> Integer,
        exp_year -> Integer,
        is_default -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    servers (id) {
        id -> Text,
        name -> Text,
        hostname -> Text,
        ip -> Nullable<Text>,
        location -> Text,
        module -> Text,
        sandbox -> Bool,
        api_url -> Text,
        username -> Text,
        secret_sealed -> Nullable<Text>,
        nameservers -> Text,
        max_accounts -> Integer,
        current_accounts -> Integer,
        status -> Text,
        disk_gb -> Nullable<Integer>,
        ram_mb -> Nullable<Integer>,
        healthy -> Bool,
        last_check_at -> Nullable<Timestamp>,
        latency_ms -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    server_checks (id) {
        id -> Text,
        server_id -> Text,
        at -> Timestamp,
        up -> Bool,
        latency_ms -> Nullable<Integer>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    service_events (id) {
        id -> Text,
        service_id -> Text,
        at -> Timestamp,
        action -> Text,
        ok -> Bool,
        detail -> Text,
    }
}

diesel::table! {
    service_usage (service_id, day) {
        service_id -> Text,
        day -> Date,
        disk_mb -> BigInt,
        bandwidth_mb -> BigInt,
    }
}

diesel::joinable!(services -> servers (server_id));
diesel::joinable!(server_checks -> servers (server_id));
diesel::joinable!(service_events -> services (service_id));
diesel::joinable!(service_changes -> services (service_id));
diesel::allow_tables_to_appear_in_same_query!(servers, services);
diesel::allow_tables_to_appear_in_same_query!(servers, order_items);
diesel::allow_tables_to_appear_in_same_query!(servers, users);
diesel::allow_tables_to_appear_in_same_query!(services, products);
diesel::allow_tables_to_appear_in_same_query!(service_events, services);
diesel::allow_tables_to_appear_in_same_query!(invoices, payment_methods);
