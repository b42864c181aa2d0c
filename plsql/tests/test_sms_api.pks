create or replace package test_sms_api
as
    -- utPLSQL v3 suite for sms_api and sms_err. Not part of plsql/install.txt (it needs
    -- utPLSQL); docs/oracle.md says how to install and run it. It runs against the default
    -- install (demo table and view): the recipient it queues to is a row it adds to
    -- hr_demo_employees. Every test rolls back (utPLSQL's default --%rollback(auto)), and so
    -- does sms_api itself never commit, so the suite leaves no rows behind.

    --%suite(sms_api: queue, cancel and read outbound SMS)
    --%suitepath(sms_bridge)

    --%beforeall
    procedure create_fixtures;

    --%test(enqueue queues a QUEUED row due now, in UTC, with one api event)
    procedure enqueue_queues_row;

    --%test(enqueue with created_by cli records a cli event, as sms-bridge enqueue does)
    procedure enqueue_from_cli_is_a_cli_event;

    --%test(enqueue with send_after makes the row due then)
    procedure enqueue_send_after_is_next_attempt;

    --%test(enqueue does not commit: the row is invisible to other sessions)
    procedure enqueue_does_not_commit;

    --%test(enqueue_number queues to a raw E.164 number without a recipient)
    procedure enqueue_number_queues_row;

    --%test(the same source_system and correlation_key return the existing id)
    procedure correlation_key_is_idempotent;

    --%test(a retried correlation key returns its id even after the sender was deactivated)
    procedure correlation_key_wins_over_data_checks;

    --%test(enqueue without a recipient id: recipient_count)
    --%throws(sms_err.e_recipient_count)
    procedure recipient_id_missing;

    --%test(enqueue_number without a number: recipient_count)
    --%throws(sms_err.e_recipient_count)
    procedure number_missing;

    --%test(unknown sender: unknown_sender)
    --%throws(sms_err.e_unknown_sender)
    procedure unknown_sender;

    --%test(inactive sender: inactive_sender)
    --%throws(sms_err.e_inactive_sender)
    procedure inactive_sender;

    --%test(null body: empty_body)
    --%throws(sms_err.e_empty_body)
    procedure null_body;

    --%test(body of white space only: empty_body)
    --%throws(sms_err.e_empty_body)
    procedure blank_body;

    --%test(1601 characters: body_too_long)
    --%throws(sms_err.e_body_too_long)
    procedure body_too_long;

    --%test(1600 characters are accepted)
    procedure body_of_1600_is_accepted;

    --%test(priority 4: bad_priority)
    --%throws(sms_err.e_bad_priority)
    procedure priority_out_of_range;

    --%test(priority null: bad_priority)
    --%throws(sms_err.e_bad_priority)
    procedure priority_null;

    --%test(recipient not in sms_recipients_v: unknown_recipient)
    --%throws(sms_err.e_unknown_recipient)
    procedure unknown_recipient;

    --%test(number without the plus sign: bad_number)
    --%throws(sms_err.e_bad_number)
    procedure bad_number;

    --%test(expires_at not after send_after: bad_window)
    --%throws(sms_err.e_bad_window)
    procedure bad_window;

    --%test(correlation_key without source_system: correlation_incomplete)
    --%throws(sms_err.e_correlation_incomplete)
    procedure correlation_incomplete;

    --%test(an ERP source system in the REST API's namespace (api:...): reserved_source_system)
    --%throws(sms_err.e_reserved_source_system)
    procedure reserved_source_system;

    --%test(the REST API's own namespace, with created_by equal to it, is accepted)
    procedure api_namespace_as_the_key;

    --%test(a reply code replies could never quote (no digit): bad_reply_code)
    --%throws(sms_err.e_bad_reply_code)
    procedure bad_reply_code;

    --%test(a reply code is stored upper-cased, as replies are searched)
    procedure reply_code_upper_cased;

    --%test(error messages are the templates of bridge/errors.py, filled left to right)
    procedure error_message_is_filled;

    --%test(format_message never fills a placeholder found inside an argument)
    procedure format_message_keeps_arguments;

    --%test(cancel makes a QUEUED message CANCELED and final, with an api event)
    procedure cancel_queued;

    --%test(cancel of a message the bridge has claimed: not_cancelable)
    --%throws(sms_err.e_not_cancelable)
    procedure cancel_sending;

    --%test(cancel twice: not_cancelable)
    --%throws(sms_err.e_not_cancelable)
    procedure cancel_twice;

    --%test(cancel of an unknown id: not_found)
    --%throws(sms_err.e_not_found)
    procedure cancel_unknown;

    --%test(status_of follows the row)
    procedure status_of_reads_status;

    --%test(status_of an unknown id: not_found)
    --%throws(sms_err.e_not_found)
    procedure status_of_unknown;

    --%test(begin_batch opens a PLSQL batch; enqueue with p_batch_id files the row under it)
    procedure batch_ties_its_messages;

    --%test(enqueue into a batch that does not exist: unknown_batch, nothing inserted)
    --%throws(sms_err.e_unknown_batch)
    procedure unknown_batch;

    --%test(begin_batch with a source other than PLSQL, CSV or REST: bad_batch_source)
    --%throws(sms_err.e_bad_batch_source)
    procedure batch_source_unknown;

    --%test(begin_batch sources are case-sensitive, as the constraint is: bad_batch_source)
    --%throws(sms_err.e_bad_batch_source)
    procedure batch_source_lower_case;

    --%test(begin_batch with a source longer than its column: bad_batch_source, not ORA-12899)
    --%throws(sms_err.e_bad_batch_source)
    procedure batch_source_too_long;

    --%test(begin_batch accepts each of PLSQL, CSV and REST, and null as PLSQL)
    procedure batch_sources_accepted;

    --%test(begin_batch with a label of 201 characters: value_too_long)
    --%throws(sms_err.e_value_too_long)
    procedure batch_label_too_long;

    --%test(begin_batch with p_created_by of 129 bytes: value_too_long, not ORA-12899)
    --%throws(sms_err.e_value_too_long)
    procedure batch_created_by_too_long;

    --%test(begin_batch's errors read as the bridge's templates, filled)
    procedure batch_error_messages;

    --%test(enqueue with a reference of 101 characters: value_too_long, not ORA-12899)
    --%throws(sms_err.e_value_too_long)
    procedure reference_too_long;

    --%test(a reference of 100 two-byte characters fits its 100 CHAR column)
    procedure reference_counts_characters;

    --%test(enqueue with a source_system of 31 bytes: value_too_long, not ORA-12899)
    --%throws(sms_err.e_value_too_long)
    procedure source_system_too_long;

    --%test(enqueue with a correlation_key of 129 characters: value_too_long, not ORA-12899)
    --%throws(sms_err.e_value_too_long)
    procedure correlation_key_too_long;

    --%test(enqueue with p_created_by of 129 bytes: value_too_long, not ORA-12899)
    --%throws(sms_err.e_value_too_long)
    procedure created_by_too_long;

    --%test(enqueue_number with p_created_by of 129 bytes: value_too_long, not ORA-12899)
    --%throws(sms_err.e_value_too_long)
    procedure number_created_by_too_long;

    --%test(a sender code longer than its column: value_too_long, not unknown_sender)
    --%throws(sms_err.e_value_too_long)
    procedure sender_code_too_long;

    --%test(lengths first, as in Store.enqueue: value_too_long before recipient_count)
    --%throws(sms_err.e_value_too_long)
    procedure lengths_before_recipient_count;

    --%test(length errors name the column and its limit as the bridge does)
    procedure length_error_messages;
end test_sms_api;
/
